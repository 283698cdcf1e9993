# Copy-DyadPortState through the built module, file to file (issue 17 item 8). Ports 24700-24799.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $ModulePath -Force
}

Describe 'Copy-DyadPortState' {
    BeforeEach {
        $script:Source = New-TestState
        Request-DyadPort cp-a -Engine Process -PortRange 24700-24709 | Out-Null
        Request-DyadPort cp-b -Engine Process -PortRange 24700-24709 | Out-Null
        Request-DyadPort cp-c -Engine Process -PortRange 24700-24709 | Out-Null
        $script:Destination = New-TestState
    }
    AfterEach { $env:DYAD_PORTS_STATE = $null }

    It 'writes nothing under -WhatIf' {
        $destination = Join-Path (Split-Path $Destination) 'copy/state.json'
        $out = Copy-DyadPortState -Source $Source -Destination $destination -WhatIf
        $out | Should -BeNullOrEmpty
        Test-Path (Split-Path $destination) | Should -BeFalse
        Test-Path $Destination | Should -BeFalse
    }

    It 'plans under -WhatIf against the destination as the copy would: a newer one is StateFileNewerVersion, and is left as it is' {
        Set-Content -Path $Destination -NoNewline -Value '{"version":99,"stateId":"0123456789abcdef","allocations":{}}'
        $before = Get-Content $Destination -Raw
        $err = { Copy-DyadPortState -Source $Source -Destination $Destination -WhatIf } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -Be 'StateFileNewerVersion,DyadPorts.Commands.CopyDyadPortStateCommand'
        $err.TargetObject | Should -Be $Destination
        Get-Content $Destination -Raw | Should -Be $before
    }

    It 'copies every allocation with its port and reports the counts' {
        $result = Copy-DyadPortState -Source $Source -Destination $Destination
        $result.PSObject.TypeNames[0] | Should -Be 'DyadPorts.StateCopyResult'
        $result.Copied | Should -Be 3
        $result.Conflicts | Should -Be 0
        $env:DYAD_PORTS_STATE = $Destination
        (Get-DyadPortAllocation -Engine Process | Sort-Object AppId).ForEach({ "$($_.AppId):$($_.Port)" }) | Should -Be @('cp-a:24700', 'cp-b:24701', 'cp-c:24702')
        (Get-DyadPortHistory -Kind Allocated).Reason | Should -Be (@("copied from $Source") * 3)
        $state = Get-Content $Destination -Raw | ConvertFrom-Json
        $state.adoptedStateIds | Should -Be @((Get-Content $Source -Raw | ConvertFrom-Json).stateId)
    }

    It 'reports a conflict as a non-terminating error with its id, and copies the others' {
        Request-DyadPort cp-b -Engine Process -PortRange 24720-24729 | Out-Null   # the same app with another port
        Request-DyadPort cp-other -Engine Process -PortRange 24702-24702 | Out-Null   # cp-c's port with another app
        $result = Copy-DyadPortState -Source $Source -Destination $Destination -ErrorVariable copyErrors -ErrorAction SilentlyContinue
        $result.Copied | Should -Be 1
        $result.Conflicts | Should -Be 2
        $result.ConflictingApps | Should -Be @('cp-b', 'cp-c')
        $copyErrors.Count | Should -Be 2
        $copyErrors.ForEach({ $_.FullyQualifiedErrorId }) | Should -Be (@('StateCopyConflict,DyadPorts.Commands.CopyDyadPortStateCommand') * 2)
        $copyErrors.ForEach({ $_.CategoryInfo.Category }) | Should -Be @('ResourceExists', 'ResourceExists')
        $copyErrors.ForEach({ $_.TargetObject }) | Should -Be @('cp-b', 'cp-c')
        $allocations = Read-TestState
        $allocations['cp-a'].port | Should -Be 24700
        $allocations['cp-b'].port | Should -Be 24720
        $allocations['cp-other'].port | Should -Be 24702
        $allocations.ContainsKey('cp-c') | Should -BeFalse
    }

    It 'takes the source from the pipeline, and a missing source is its own non-terminating StateFileNotFound' {
        $missing = Join-Path (Split-Path $Source) 'missing.json'
        $results = @([pscustomobject]@{ FullName = $missing }, (Get-Item $Source)) |
            Copy-DyadPortState -Destination $Destination -ErrorVariable copyErrors -ErrorAction SilentlyContinue
        @($results).Count | Should -Be 1
        $results.Copied | Should -Be 3 # the source after the missing one
        $copyErrors.Count | Should -Be 1
        $copyErrors[0].FullyQualifiedErrorId | Should -Be 'StateFileNotFound,DyadPorts.Commands.CopyDyadPortStateCommand'
        $copyErrors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $copyErrors[0].TargetObject | Should -Be $missing
        Test-Path $missing | Should -BeFalse
    }

    It 'reports a source <What> as its own <Id>, and copies the next piped one; a destination there stops the command' -ForEach @(
        @{ What = 'on a drive that does not exist'; Location = 'NoSuchDyadDrive:/state.json'; Id = 'StateFileNotFound'; Category = 'ObjectNotFound'; Message = '*' }
        # The message names the state location, not DYAD_PORTS_STATE, which it did not come from.
        @{ What = 'URL of a scheme it does not know'; Location = 's3://bucket/state'; Id = 'StateLocationInvalid'; Category = 'InvalidArgument'; Message = "The state location 's3://bucket/state' (*-Source*) is a URL of the scheme 's3'*" }
    ) {
        $results = @([pscustomobject]@{ FullName = $Location }, (Get-Item $Source)) |
            Copy-DyadPortState -Destination $Destination -ErrorVariable copyErrors -ErrorAction SilentlyContinue
        $results.Copied | Should -Be 3 # the source after the bad one
        $copyErrors.Count | Should -Be 1
        $copyErrors[0].FullyQualifiedErrorId | Should -Be "$Id,DyadPorts.Commands.CopyDyadPortStateCommand"
        $copyErrors[0].CategoryInfo.Category | Should -Be $Category
        $copyErrors[0].TargetObject | Should -Be $Location
        $copyErrors[0].Exception.Message | Should -BeLike $Message
        $err = { Copy-DyadPortState -Source $Source -Destination $Location } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -Be 'StateLocationInvalid,DyadPorts.Commands.CopyDyadPortStateCommand'
        $err.TargetObject | Should -Be $Location
    }

    It 'never writes its source, with or without -WhatIf: a version 1 file with a malformed record is copied from as it is' {
        $old = Join-Path (Split-Path $Source) 'old.json'
        Set-Content -Path $old -NoNewline -Value '{"allocations":{"cp-v1":{"appId":"cp-v1","port":24740,"engine":"Process","allocatedAt":"2026-01-01T00:00:00+00:00"},"cp-bad":{"appId":"cp-bad","port":0}}}'
        $before = [IO.File]::ReadAllBytes($old)
        $folder = @(Get-ChildItem (Split-Path $old) -Force).Name
        Copy-DyadPortState -Source $old -Destination $Destination -WhatIf -WarningAction SilentlyContinue | Should -BeNullOrEmpty
        $result = Copy-DyadPortState -Source $old -Destination $Destination -WarningVariable warned -WarningAction SilentlyContinue
        $result.Copied | Should -Be 1
        (Read-TestState)['cp-v1'].port | Should -Be 24740
        $warned.Count | Should -BeGreaterThan 0
        $warned[0].Message | Should -BeLike 'StateFileCorrupt:*cp-bad*left out*'
        [IO.File]::ReadAllBytes($old) | Should -Be $before
        @(Get-ChildItem (Split-Path $old) -Force).Name | Should -Be $folder # no lock, no backup, no history beside it
    }

    It 'goes on with the next piped source when one is not a state: its own non-terminating StateFileCorrupt' {
        $garbage = Join-Path (Split-Path $Source) 'garbage.json'
        Set-Content -Path $garbage -Value 'not a state'
        $results = @((Get-Item $garbage), (Get-Item $Source)) |
            Copy-DyadPortState -Destination $Destination -ErrorVariable copyErrors -ErrorAction SilentlyContinue
        @($results).Count | Should -Be 1
        $results.Copied | Should -Be 3
        $copyErrors.Count | Should -Be 1
        $copyErrors[0].FullyQualifiedErrorId | Should -Be 'StateFileCorrupt,DyadPorts.Commands.CopyDyadPortStateCommand'
        $copyErrors[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $copyErrors[0].TargetObject | Should -Be $garbage
        Get-Content $garbage -Raw | Should -Be "not a state$([Environment]::NewLine)"
        @(Get-ChildItem (Split-Path $garbage) -Filter 'garbage.json.corrupt-*').Count | Should -Be 0
    }
}
