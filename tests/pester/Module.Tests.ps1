BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $ModulePath -Force
}

Describe 'The built module' {
    It 'passes Test-ModuleManifest with explicit exports, editions and formats' {
        $manifest = Test-ModuleManifest (Join-Path $ModulePath 'DyadPorts.psd1')
        $manifest.ExportedCmdlets.Keys | Sort-Object | Should -Be @('Copy-DyadPortState', 'Export-DyadPortMetrics', 'Get-DyadPortAgent', 'Get-DyadPortAllocation', 'Get-DyadPortHistory', 'Get-DyadPortUsage', 'Remove-DyadPortAllocation', 'Request-DyadPort', 'Start-DyadPortAgent', 'Start-DyadPreview', 'Stop-DyadPreview', 'Test-DyadPortAvailable')
        $manifest.CompatiblePSEditions | Should -Be @('Core')
        $manifest.PowerShellVersion | Should -Be ([version]'7.6')
        $data = Import-PowerShellDataFile (Join-Path $ModulePath 'DyadPorts.psd1')
        $data.FormatsToProcess | Should -Be @('DyadPorts.Format.ps1xml')
    }

    It 'exports exactly the eleven cmdlets' {
        (Get-Command -Module DyadPorts).Name | Sort-Object | Should -Be @('Copy-DyadPortState', 'Export-DyadPortMetrics', 'Get-DyadPortAgent', 'Get-DyadPortAllocation', 'Get-DyadPortHistory', 'Get-DyadPortUsage', 'Remove-DyadPortAllocation', 'Request-DyadPort', 'Start-DyadPortAgent', 'Start-DyadPreview', 'Stop-DyadPreview', 'Test-DyadPortAvailable')
    }

    It 'never ships System.Management.Automation or other PowerShell assemblies' {
        $files = (Get-ChildItem $ModulePath -Filter *.dll -Recurse).Name
        $files | Should -Not -Contain 'System.Management.Automation.dll'
        $files | Where-Object { $_ -like 'Microsoft.PowerShell.*' } | Should -BeNullOrEmpty
        $files | Should -Contain 'DyadPorts.dll'
        $files | Should -Contain 'Docker.DotNet.dll'
    }

    It 'loads the cmdlets and the loader in the default context and every assembly of deps/ in the DyadPorts context, none twice' {
        $ours = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { -not $_.IsDynamic -and $_.Location -like "$ModulePath*" }
        foreach ($assembly in $ours) {
            $context = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($assembly).Name
            $expected = if ($assembly.Location -like (Join-Path $ModulePath 'deps/*')) { 'DyadPorts' } else { 'Default' }
            $context | Should -Be $expected -Because "$($assembly.Location) belongs in the $expected context"
        }
        @($ours | Where-Object { $_.GetName().Name -eq 'DyadPorts.Core' }).Count | Should -Be 1
        ($ours | Group-Object { $_.GetName().Name } | Where-Object Count -gt 1) | Should -BeNullOrEmpty
        [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext([DyadPorts.PortAllocation].Assembly).Name | Should -Be 'DyadPorts'
    }

    It 'binds deps/ from deps/linux-x64 (ReadyToRun) on linux-x64, and from the IL copies in deps/ where that folder is missing' {
        $rid = [System.Runtime.InteropServices.RuntimeInformation]::RuntimeIdentifier
        $folder = if ($rid -eq 'linux-x64') { 'deps/linux-x64' } else { 'deps' }
        [DyadPorts.PortAllocation].Assembly.Location | Should -Be (Join-Path $ModulePath "$folder/DyadPorts.Core.dll")
        # Another platform sees no folder of its RID: a copy of the module without deps/linux-x64 is what it gets.
        $parent = Join-Path ([IO.Path]::GetTempPath()) ('dyadports-il-' + [guid]::NewGuid().ToString('N'))
        $copy = Join-Path $parent 'DyadPorts'
        try {
            New-Item -ItemType Directory $parent | Out-Null
            Copy-Item $ModulePath -Destination $copy -Recurse
            Remove-Item (Join-Path $copy 'deps/linux-x64') -Recurse -Force -ErrorAction SilentlyContinue
            $location = & $ChildPwsh @(Get-ChildPwshArgument '-NoProfile', '-NonInteractive', '-Command',
                "Import-Module '$copy'; [DyadPorts.PortAllocation]::new().GetType().Assembly.Location")
            $location | Should -Be (Join-Path $copy 'deps/DyadPorts.Core.dll')
        }
        finally { Remove-Item $parent -Recurse -Force -ErrorAction SilentlyContinue }
    }

    It 'loads no engine client (Docker.DotNet) for a process-engine command on an existing file state' {
        # Issue 18: a one-shot loads nothing its command does not need. The first child writes the state (a missing
        # state is rebuilt from the engines' labelled containers, which may load the client); the second must not.
        $state = New-TestState
        $script = New-ChildScript @"
`$env:DYAD_PORTS_STATE = '$state'
`$port = (Request-DyadPort '${Prefix}noengine' -Engine Process -PortRange 28690-28694).Port
`$free = Test-DyadPortAvailable 28694 -Engine Process
"`$port `$free " + (@([AppDomain]::CurrentDomain.GetAssemblies() | ForEach-Object { `$_.GetName().Name } | Where-Object { `$_ -like 'Docker.DotNet*' }) -join ',')
"@
        try {
            $first = & $ChildPwsh @(Get-ChildPwshArgument '-NoProfile', '-NonInteractive', '-File', $script)
            $second = & $ChildPwsh @(Get-ChildPwshArgument '-NoProfile', '-NonInteractive', '-File', $script)
        }
        finally {
            Remove-Item $script -ErrorAction SilentlyContinue
            Remove-DyadPortAllocation "${Prefix}noengine" -ErrorAction SilentlyContinue
        }
        $first | Should -Match '^2869[0-4] True'
        $second | Should -Be (($first -split ' ')[0] + ' True ')
    }

    It 'declares [OutputType] on every cmdlet' {
        foreach ($command in Get-Command -Module DyadPorts) {
            $command.OutputType.Count | Should -BeGreaterThan 0 -Because "$($command.Name) needs [OutputType]"
        }
        (Get-Command Test-DyadPortAvailable).OutputType.Name | Should -Contain 'System.Boolean'
        (Get-Command Test-DyadPortAvailable).OutputType.Name | Should -Contain 'DyadPorts.PortStatus'
    }

    It 'answers Test-DyadPortAvailable -Detailed:$false with a bool, as without -Detailed' {
        # A script passes the switch on: -Detailed:$wantDetails. Port 26630 (nothing listens there in the test run).
        $plain = Test-DyadPortAvailable 26630 -Engine Process -Detailed:$false
        $plain | Should -BeOfType [bool]
        $plain | Should -Be (Test-DyadPortAvailable 26630 -Engine Process)
        $detailed = Test-DyadPortAvailable 26630 -Engine Process -Detailed:$true
        $detailed.PSObject.TypeNames[0] | Should -Be 'DyadPorts.PortStatus'
        $detailed.Port | Should -Be 26630
        # What it declares covers both, whichever way -Detailed is given (a set of its own declared PortStatus alone,
        # and -Detailed:$false chose that set and wrote a bool).
        $command = Get-Command Test-DyadPortAvailable
        $command.ParameterSets.Count | Should -Be 1
        foreach ($declared in $command.ImplementingType.GetCustomAttributes([System.Management.Automation.OutputTypeAttribute], $false)) {
            $declared.ParameterSetName | Should -Be @('__AllParameterSets')
            $declared.Type.Name | Should -Be @('System.Boolean', 'DyadPorts.PortStatus')
        }
    }

    It 'supports ShouldProcess on every cmdlet that changes state' -ForEach @(
        @{ Name = 'Request-DyadPort' }, @{ Name = 'Remove-DyadPortAllocation' }, @{ Name = 'Start-DyadPreview' }, @{ Name = 'Stop-DyadPreview' },
        @{ Name = 'Copy-DyadPortState' }
    ) {
        (Get-Command $Name).Parameters.Keys | Should -Contain 'WhatIf'
        (Get-Command $Name).Parameters.Keys | Should -Contain 'Confirm'
    }

    It 'makes no engine call at import, with <Case> in DOCKER_HOST' -ForEach @(
        @{ Case = 'a live engine'; DockerHost = $TestEnv.Docker; ContainerHost = $TestEnv.Podman }
        @{ Case = 'a dead socket'; DockerHost = 'unix:///tmp/dyadports-dead.sock'; ContainerHost = 'unix:///tmp/dyadports-dead2.sock' }
    ) {
        # Counted as the bench counts: the session's own client per endpoint (ContainerEngine.Calls), read after the
        # import. Any call made while importing went through that same client, failed or not.
        $saved = $env:DOCKER_HOST, $env:CONTAINER_HOST
        try {
            $env:DOCKER_HOST, $env:CONTAINER_HOST = $DockerHost, $ContainerHost
            $out = Invoke-ChildPwsh @'
$null = Get-Command -Module DyadPorts
$session = [DyadPorts.Infrastructure.ModuleSession]::Current
$endpoints = @($env:DOCKER_HOST, $env:CONTAINER_HOST, 'unix:///run/docker.sock', 'unix:///run/podman/podman.sock', 'unix:///var/run/docker.sock') | Sort-Object -Unique
$calls = 0
foreach ($e in $endpoints) { $calls += $session.Engine([DyadPorts.PortAllocation].Assembly.GetType('DyadPorts.Core.Engines.EngineTarget', $true)::new('Auto', $e, $false, 'test')).Calls }
"calls=$calls"
'@
        }
        finally {
            $env:DOCKER_HOST, $env:CONTAINER_HOST = $saved
        }
        $out | Should -Be 'calls=0'
    }
}

Describe 'Views' {
    BeforeAll {
        $allocation = [DyadPorts.PortAllocation]@{ AppId = 'view1'; Port = 23799; Status = 'Reserved'; ContainerName = 'dyad-app-view1'; Engine = 'Docker' }
        $status = [DyadPorts.PortStatus]@{ Port = 23799; Available = $false; HeldBy = 'container x'; Source = 'Container' }
        $preview = [DyadPorts.Preview]@{ AppId = 'view1'; Port = 23799; Url = 'http://localhost:23799'; State = 'running'; Engine = 'Podman'; ContainerName = 'dyad-app-view1' }
    }
    It 'shows <Type> as a table with its columns' -ForEach @(
        @{ Type = 'PortAllocation'; Headers = 'AppId', 'Port', 'Status', 'Engine', 'HeldBy' }
        @{ Type = 'PortStatus'; Headers = 'Port', 'Available', 'Source', 'HeldBy' }
        @{ Type = 'Preview'; Headers = 'AppId', 'Port', 'State', 'Engine', 'Url' }
    ) {
        $object = switch ($Type) { 'PortAllocation' { $allocation } 'PortStatus' { $status } 'Preview' { $preview } }
        $text = $object | Format-Table | Out-String -Width 200
        $headerLine = ($text -split "`n" | Where-Object { $_.Trim() } | Select-Object -First 1)
        foreach ($h in $Headers) { $headerLine | Should -Match "\b$h\b" }
        $text | Should -Match '23799'
    }
}

Describe 'Argument completion' {
    BeforeAll { $null = New-TestState }
    It 'completes AppIds from the allocations' {
        Request-DyadPort compl-alpha -Engine Process -PortRange 23700-23710 | Out-Null
        Request-DyadPort compl-beta -Engine Process -PortRange 23700-23710 | Out-Null
        $completion = TabExpansion2 -inputScript 'Remove-DyadPortAllocation -AppId compl-' -cursorColumn 'Remove-DyadPortAllocation -AppId compl-'.Length
        $completion.CompletionMatches.CompletionText | Should -Be @('compl-alpha', 'compl-beta')
    }
    It 'completes ports from the allocations' {
        $completion = TabExpansion2 -inputScript 'Test-DyadPortAvailable -Port 2370' -cursorColumn 'Test-DyadPortAvailable -Port 2370'.Length
        $completion.CompletionMatches.CompletionText | Should -Be @('23700', '23701')
    }
    It 'leaves out an empty AppId and quotes one that is not a plain AppId, from a state another tool wrote' {
        $state = Get-Content $env:DYAD_PORTS_STATE -Raw | ConvertFrom-Json -AsHashtable
        foreach ($id in '', 'compl odd') { $record = $state.allocations['compl-alpha'].Clone(); $record.appId = $id; $record.port = 23719; $state.allocations[$id] = $record }
        $state | ConvertTo-Json -Depth 6 | Set-Content $env:DYAD_PORTS_STATE
        $completion = TabExpansion2 -inputScript 'Remove-DyadPortAllocation -AppId ' -cursorColumn 'Remove-DyadPortAllocation -AppId '.Length
        $completion.CompletionMatches.CompletionText | Should -Not -Contain ''
        # Only this state's ids: the engine Auto resolves to may hold other containers (CI's sentinel) that complete too.
        $completion.CompletionMatches.CompletionText | Where-Object { $_ -match 'compl' } | Should -Be @("'compl odd'", 'compl-alpha', 'compl-beta')
    }
}

Describe 'Help for <Name>' -ForEach @(
    @{ Name = 'Get-DyadPortAllocation' }, @{ Name = 'Request-DyadPort' }, @{ Name = 'Remove-DyadPortAllocation' },
    @{ Name = 'Start-DyadPreview' }, @{ Name = 'Stop-DyadPreview' }, @{ Name = 'Test-DyadPortAvailable' },
    @{ Name = 'Get-DyadPortHistory' }, @{ Name = 'Get-DyadPortUsage' }, @{ Name = 'Export-DyadPortMetrics' },
    @{ Name = 'Copy-DyadPortState' }, @{ Name = 'Start-DyadPortAgent' }, @{ Name = 'Get-DyadPortAgent' }
) {
    BeforeAll {
        $help = Get-Help $Name -Full
        $command = Get-Command $Name
        $common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
    }
    It 'has a synopsis and a description' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -BeLike "*$Name*[[]*"   # not the auto-generated syntax stub
        ($help.description.Text -join '') | Should -Not -BeNullOrEmpty
    }
    It 'describes every parameter the cmdlet has' {
        foreach ($parameter in $command.Parameters.Keys | Where-Object { $_ -notin $common }) {
            $entry = $help.parameters.parameter | Where-Object name -eq $parameter
            ($entry.description.Text -join '') | Should -Not -BeNullOrEmpty -Because "-$parameter of $Name needs help"
        }
    }
    It 'has at least two examples, one a pipeline, and every example parses' {
        $examples = @($help.examples.example)
        $examples.Count | Should -BeGreaterOrEqual 2
        ($examples.code | Where-Object { $_ -match '\|' }) | Should -Not -BeNullOrEmpty
        foreach ($code in $examples.code) {
            $errors = $null
            [System.Management.Automation.Language.Parser]::ParseInput($code, [ref]$null, [ref]$errors) | Out-Null
            $errors | Should -BeNullOrEmpty -Because "example '$code' must parse"
        }
    }
    It 'names its inputs and outputs' {
        ($help.inputTypes.inputType.type.name -join '') | Should -Not -BeNullOrEmpty
        ($help.returnValues.returnValue.type.name -join '') | Should -Match 'DyadPorts|System'
    }
}

Describe 'about_DyadPorts' {
    It 'covers the problem, the rules, the configuration, the state file and the engines' {
        $text = Get-Help about_DyadPorts | Out-String
        foreach ($section in 'THE PROBLEM', 'THE AVAILABILITY RULES', 'CONFIGURATION AND PRECEDENCE', 'THE STATE FILE', 'THE ENGINES') {
            $text | Should -Match $section
        }
        foreach ($variable in 'CONTAINERIZATION_ENGINE', 'CONTAINERIZATION_ENABLED', 'AUTO_KILL_PORT', 'DOCKER_HOST', 'CONTAINER_HOST', 'DYAD_PORT_RANGE', 'DYAD_PORTS_STATE') {
            $text | Should -Match $variable
        }
    }
}
