BeforeDiscovery { . (Join-Path $PSScriptRoot 'Common.ps1') }
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $ModulePath -Force
}

Describe 'Allocation against <Engine>' -ForEach $Engines {
    BeforeAll {
        Assert-EngineAnswers $Endpoint
        $PSDefaultParameterValues = @{ '*-Dyad*:EngineEndpoint' = $Endpoint; '*-Dyad*:Engine' = $Engine }
        $PSDefaultParameterValues.Remove('Remove-DyadPortAllocation:EngineEndpoint')
        $PSDefaultParameterValues.Remove('Remove-DyadPortAllocation:Engine')
        $app = Join-Path TestDrive: 'app'
        New-Item -ItemType Directory $app | Out-Null
        'pester' | Set-Content (Join-Path $app 'index.html')
        $app = (Resolve-Path $app).ProviderPath
    }
    BeforeEach {
        Remove-TestContainers $Engine $Endpoint
        $null = New-TestState
    }
    AfterAll { Remove-TestContainers $Engine $Endpoint }

    It 'moves app 57 off the port of running app 56 with a warning, and gives 58 the next one' {
        Start-DyadPreview 56 -Path $app -Image $Image -Command 'httpd -f -p "$PORT" -h /app' | Select-Object -ExpandProperty Port | Should -Be 32100
        # The seed's stale memory: 57 "has" 32100.
        $state = Get-Content $env:DYAD_PORTS_STATE -Raw | ConvertFrom-Json -AsHashtable
        $state.allocations['57'] = @{ appId = '57'; port = 32100; engine = $Engine; allocatedAt = (Get-Date).ToString('o') }
        $state | ConvertTo-Json -Depth 5 | Set-Content $env:DYAD_PORTS_STATE

        $a57 = Request-DyadPort 57 -WarningVariable warnings -WarningAction SilentlyContinue
        $a57.Port | Should -Be 32101
        $a57.PSObject.TypeNames[0] | Should -Be 'DyadPorts.PortAllocation'
        $warnings[0].Message | Should -BeLike '*port 32100 is held by container dyad-app-56*'
        (Request-DyadPort 58).Port | Should -Be 32102
        (Get-CliPorts $Engine $Endpoint 'dyad-app-56') | Should -Match '32100->32100/tcp'
    }

    It 'answers Test-DyadPortAvailable with booleans, from the pipeline by value and by property name' {
        Request-DyadPort pa -PortRange 32300-32305 | Out-Null
        (Test-DyadPortAvailable 32300) | Should -BeFalse
        (Test-DyadPortAvailable 32301) | Should -BeTrue
        if (Test-DyadPortAvailable 32302) { $branch = 'free' } else { $branch = 'held' }
        $branch | Should -Be 'free'
        (32300, 32301 | Test-DyadPortAvailable) | Should -Be @($false, $true)
        $detail = Get-DyadPortAllocation pa | Test-DyadPortAvailable -Detailed
        $detail.Source | Should -Be 'Allocation'
        $detail.HeldBy | Should -Be 'allocation of app pa'
    }

    It 'removes stale allocations through the pipeline, with -PassThru' {
        Start-DyadPreview st -Path $app -Image $Image -Command 'httpd -f -p "$PORT" -h /app' -PortRange 32310-32315 | Out-Null
        Request-DyadPort keep -PortRange 32310-32315 | Out-Null
        Stop-DyadPreview st -KeepAllocation
        (Get-DyadPortAllocation st).Status | Should -Be 'Stale'
        $removed = Get-DyadPortAllocation | Where-Object Status -eq Stale | Remove-DyadPortAllocation -PassThru
        $removed.AppId | Should -Be 'st'
        $removed.Status | Should -Be 'Released'
        (Read-TestState).Keys | Should -Be @('keep')
    }

    It 'changes nothing under -WhatIf: not the state, not the engine' {
        Request-DyadPort w1 -PortRange 32320-32325 | Out-Null
        $before = Get-Content $env:DYAD_PORTS_STATE -Raw
        Request-DyadPort w2 -PortRange 32320-32325 -WhatIf
        Remove-DyadPortAllocation w1 -WhatIf
        Start-DyadPreview w3 -Path $app -Image $Image -PortRange 32320-32325 -WhatIf
        Stop-DyadPreview w1 -WhatIf
        Get-Content $env:DYAD_PORTS_STATE -Raw | Should -Be $before
        Get-CliPorts $Engine $Endpoint 'dyad-app-w3' | Should -BeNullOrEmpty
    }

    It 'fails with PortRangeExhausted on a full range, naming the range' {
        Request-DyadPort x1 -PortRange 32330-32331 | Out-Null
        Request-DyadPort x2 -PortRange 32330-32331 | Out-Null
        $err = { Request-DyadPort x3 -PortRange 32330-32331 -ErrorAction Stop } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'PortRangeExhausted,*'
        $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        "$($err.TargetObject)" | Should -Be '32330-32331'
        $err.Exception.Message | Should -BeLike '*checked 2 port(s)*'
    }

    It 'starts a preview that exits at once with PreviewExitedEarly, carrying its logs, leaving nothing' {
        $err = { Start-DyadPreview dies -Path $app -Image $Image -Command 'echo dying-now; exit 4' -PortRange 32340-32345 -ErrorAction Stop } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'PreviewExitedEarly,*'
        $err.Exception.Message | Should -BeLike '*dying-now*'
        $err.TargetObject | Should -Be 'dies'
        Get-CliPorts $Engine $Endpoint 'dyad-app-dies' | Should -BeNullOrEmpty
        (Read-TestState).Keys | Should -Not -Contain 'dies'
    }

    It 'warns about a corrupt state file, backs it up and rebuilds from labelled containers' {
        Start-DyadPreview cor -Path $app -Image $Image -Command 'httpd -f -p "$PORT" -h /app' -PortRange 32350-32355 | Out-Null
        'not json at all' | Set-Content $env:DYAD_PORTS_STATE
        $all = Get-DyadPortAllocation -WarningVariable warnings -WarningAction SilentlyContinue
        $warnings[0].Message | Should -BeLike 'StateFileCorrupt*'
        ($all | Where-Object AppId -eq 'cor').Status | Should -Be 'Active'
        ($all | Where-Object AppId -eq 'cor').Port | Should -Be 32350
        Get-ChildItem (Split-Path $env:DYAD_PORTS_STATE) -Filter 'state.json.corrupt-*' | Should -HaveCount 1
        (Invoke-WebRequest http://127.0.0.1:32350/ -UseBasicParsing).Content.Trim() | Should -Be 'pester'
    }
}

Describe 'Specific errors for bad input' {
    BeforeEach { $null = New-TestState }

    It 'rejects the range <Range> with InvalidPortRange / InvalidArgument' -ForEach @(
        @{ Range = 'abc' }, @{ Range = '32200-32100' }, @{ Range = '1-70000' }
    ) {
        $err = { Request-DyadPort r1 -PortRange $Range -Engine Process } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'InvalidPortRange,*'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.TargetObject | Should -Be $Range
        Test-Path $env:DYAD_PORTS_STATE | Should -BeFalse
    }

    It 'rejects DYAD_PORT_RANGE garbage the same way' {
        $env:DYAD_PORT_RANGE = 'lots'
        try {
            $err = { Request-DyadPort r2 -Engine Process } | Should -Throw -PassThru
            $err.FullyQualifiedErrorId | Should -BeLike 'InvalidPortRange,*'
        } finally { Remove-Item Env:DYAD_PORT_RANGE }
    }

    It 'rejects port <Port> with InvalidPort / InvalidArgument and goes on with the next' -ForEach @(
        @{ Port = 0 }, @{ Port = -1 }, @{ Port = 65536 }
    ) {
        $out = Test-DyadPortAvailable -Port $Port, 33600 -Engine Process -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'InvalidPort,*'
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $errs[0].TargetObject | Should -Be $Port
        $out | Should -Be $true
    }

    It 'rejects the AppId <Name> at parameter binding, changing nothing' -ForEach @(
        @{ Name = 'shell'; Id = "'; rm -rf /'" }, @{ Name = 'subexpr'; Id = '$(id)' }, @{ Name = 'long'; Id = ('a' * 300) }, @{ Name = 'unicode'; Id = 'ünï' }, @{ Name = 'empty'; Id = '' }
    ) {
        $err = { Request-DyadPort -AppId $Id -Engine Process } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentValidationError*'
        $err.CategoryInfo.Category | Should -Be 'InvalidData'
        Test-Path $env:DYAD_PORTS_STATE | Should -BeFalse
    }

    It 'reports an unknown AppId as a non-terminating AppIdNotFound' {
        Request-DyadPort known -Engine Process -PortRange 33610-33615 | Out-Null
        Remove-DyadPortAllocation nobody, known -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'AppIdNotFound,*'
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $errs[0].TargetObject | Should -Be 'nobody'
        (Read-TestState).Count | Should -Be 0
        Get-DyadPortAllocation nobody -Engine Process -ErrorVariable errs2 -ErrorAction SilentlyContinue
        $errs2[0].FullyQualifiedErrorId | Should -BeLike 'AppIdNotFound,*'
    }

    It 'fails with EngineUnreachable naming the endpoint, never saying available' {
        $err = { Test-DyadPortAvailable 32100 -EngineEndpoint unix:///tmp/dyadports-nothing.sock } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'EngineUnreachable,*'
        $err.CategoryInfo.Category | Should -Be 'ConnectionError'
        $err.TargetObject | Should -Be 'unix:///tmp/dyadports-nothing.sock'
        $err.Exception.Message | Should -BeLike '*unix:///tmp/dyadports-nothing.sock*'
    }
}
