# Table views that keep a 63-character AppId whole, and app folders that pipe straight into the cmdlets.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $ModulePath -Force
    $LongId = 'a' * 41 + '-0123456789-0123456789'   # 63 characters, the longest valid AppId
}

Describe 'Views with a 63-character AppId at 120 columns' {
    It 'shows the whole AppId of <Type> in the default table' -ForEach @(
        @{ Type = 'PortAllocation'; Headers = 'AppId', 'Port', 'Status', 'Engine', 'Host', 'HeldBy' }
        @{ Type = 'Preview'; Headers = 'AppId', 'Port', 'State', 'Engine', 'Url' }
    ) {
        $LongId.Length | Should -Be 63
        $objects = switch ($Type) {
            'PortAllocation' {
                [DyadPorts.PortAllocation]@{ AppId = $LongId; Port = 23798; Status = 'Conflict'; Engine = 'Docker'; ContainerName = "dyad-app-$LongId"; HeldBy = 'host process python3 (pid 4242) listening on 0.0.0.0:23798' }
                [DyadPorts.PortAllocation]@{ AppId = '57'; Port = 23701; Status = 'Reserved'; Engine = 'Podman'; ContainerName = 'dyad-app-57' }
            }
            'Preview' {
                [DyadPorts.Preview]@{ AppId = $LongId; Port = 23798; Url = 'http://localhost:23798'; State = 'running'; Engine = 'Podman'; ContainerName = "dyad-app-$LongId" }
                [DyadPorts.Preview]@{ AppId = '57'; Port = 23701; Url = 'http://localhost:23701'; State = 'running'; Engine = 'Podman'; ContainerName = 'dyad-app-57' }
            }
        }
        foreach ($text in ($objects | Out-String -Width 120), ($objects | Format-Table | Out-String -Width 120)) {
            $lines = $text -split "`n" | Where-Object { $_.Trim() }
            ($lines[0] -split '\s+' | Where-Object { $_ }) | Should -Be $Headers
            $text | Should -Match ([regex]::Escape($LongId)) -Because 'the AppId must not be cut'
            $text | Should -Match 'http://localhost:23798|23798 Conflict'
            $text | Should -Not -Match '…[ ]+\S' -Because 'no column but the last may be cut'
            $lines | ForEach-Object { $_.TrimEnd().Length | Should -BeLessOrEqual 120 }
        }
    }

    It 'keeps a short AppId on one narrow line' {
        $text = [DyadPorts.PortAllocation]@{ AppId = '57'; Port = 23701; Status = 'Reserved'; Engine = 'Podman' } | Out-String -Width 120
        ($text -split "`n" | Where-Object { $_ -match '23701' }) | Should -Match '^57\s+23701 Reserved'
    }

    It 'leaves ContainerName to the list view of <Type>' -ForEach @(@{ Type = 'PortAllocation' }, @{ Type = 'Preview' }) {
        $object = New-Object "DyadPorts.$Type" -Property @{ AppId = $LongId; Port = 23798; ContainerName = "dyad-app-$LongId" }
        $object | Format-List | Out-String -Width 120 | Should -Match ("ContainerName\s*: " + [regex]::Escape("dyad-app-$LongId"))
    }
}

Describe 'App folders piped by property name' {
    BeforeAll {
        $apps = Join-Path ([IO.Path]::GetTempPath()) ('dyadports-apps-' + [guid]::NewGuid().ToString('N'))
        New-Item -ItemType Directory (Join-Path $apps 'app-one'), (Join-Path $apps 'app2') | Out-Null
        $state = Join-Path $apps 'state.json'
    }
    AfterAll { Remove-Item $apps -Recurse -Force -ErrorAction SilentlyContinue }

    It 'gives AppId the alias Name on <Name>' -ForEach @(
        @{ Name = 'Start-DyadPreview' }, @{ Name = 'Request-DyadPort' }, @{ Name = 'Stop-DyadPreview' },
        @{ Name = 'Get-DyadPortAllocation' }, @{ Name = 'Remove-DyadPortAllocation' }, @{ Name = 'Get-DyadPortHistory' }
    ) {
        $parameter = (Get-Command $Name).Parameters['AppId']
        $parameter.Aliases | Should -Contain 'Name'
        $parameter.Attributes.Where({ $_ -is [Parameter] }).ValueFromPipelineByPropertyName | Should -Contain $true
    }

    It 'binds Get-ChildItem -Directory | Start-DyadPreview: Name to AppId, FullName to Path; -WhatIf starts nothing' {
        $out = Invoke-ChildPwsh "`$env:DYAD_PORTS_STATE = '$state'; Get-ChildItem '$apps' -Directory | Sort-Object Name | Start-DyadPreview -Engine Process -PortRange 21980-21989 -WhatIf"
        $whatIf = @($out | Where-Object { "$_" -like 'What if:*' })
        $whatIf.Count | Should -Be 2 -Because ($out -join "`n")
        $whatIf[0] | Should -BeLike "*Start a preview of '$(Join-Path $apps 'app-one')'*app app-one*"
        $whatIf[1] | Should -BeLike "*Start a preview of '$(Join-Path $apps 'app2')'*app app2*"
        Test-Path $state | Should -BeFalse -Because '-WhatIf allocates nothing'
    }

    It 'asks -WhatIf before it reaches an engine: Start-DyadPreview -WhatIf with dead engine sockets reports, warns of nothing and fails nothing' {
        # No engine named: the rules would ping DOCKER_HOST and CONTAINER_HOST, find neither, and warn of the process engine.
        $out = Invoke-ChildPwsh "`$env:DYAD_PORTS_STATE = '$state'; `$env:DOCKER_HOST = 'unix:///tmp/dyadports-nothing.sock'; `$env:CONTAINER_HOST = 'unix:///tmp/dyadports-nothing2.sock'; Start-DyadPreview '${Prefix}wi' -Path '$apps' -WhatIf 3>&1; 'done'"
        $out | Should -Contain 'done' -Because ($out -join "`n")
        @($out | Where-Object { $_ -is [System.Management.Automation.WarningRecord] -or "$_" -like '*WARNING*' }) | Should -BeNullOrEmpty -Because ($out -join "`n")
        @($out | Where-Object { "$_" -like "What if:*Start a preview of '$apps'*app ${Prefix}wi*" }).Count | Should -Be 1 -Because ($out -join "`n")
        Test-Path $state | Should -BeFalse
    }

    It 'binds Get-ChildItem -Directory | Request-DyadPort the same way' {
        $out = Invoke-ChildPwsh "`$env:DYAD_PORTS_STATE = '$state'; Get-ChildItem '$apps' -Directory | Sort-Object Name | Request-DyadPort -Engine Process -PortRange 21980-21989 -WhatIf"
        @($out | Where-Object { "$_" -like 'What if:*app-one*' }).Count | Should -Be 1 -Because ($out -join "`n")
        @($out | Where-Object { "$_" -like 'What if:*app2*' }).Count | Should -Be 1
        Test-Path $state | Should -BeFalse
    }

    It 'binds Get-ChildItem -Directory | Get-DyadPortHistory by Name, not by the folder as text' {
        $out = Invoke-ChildPwsh ("`$env:DYAD_PORTS_STATE = '$state'; 'app-one', 'app2', 'app3' | Request-DyadPort -Engine Process -PortRange 21980-21989 | Out-Null; " +
            "Get-ChildItem '$apps' -Directory | Get-DyadPortHistory | ForEach-Object { 'event ' + `$_.AppId }; 'app-one', 'app2', 'app3' | Remove-DyadPortAllocation")
        @($out | Where-Object { "$_" -like 'event *' } | Sort-Object -Unique) | Should -Be @('event app-one', 'event app2') -Because ($out -join "`n")
    }
}
