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
        Start-DyadPreview "${Prefix}56" -Path $app -Image $Image -Command 'httpd -f -p "$PORT" -h /app' -PortRange 22000-22010 | Select-Object -ExpandProperty Port | Should -Be 22000
        # The seed's stale memory: 57 "has" 22000.
        $state = Get-Content $env:DYAD_PORTS_STATE -Raw | ConvertFrom-Json -AsHashtable
        $state.allocations["${Prefix}57"] = @{ appId = "${Prefix}57"; port = 22000; engine = $Engine; allocatedAt = (Get-Date).ToString('o') }
        $state | ConvertTo-Json -Depth 5 | Set-Content $env:DYAD_PORTS_STATE

        $a57 = Request-DyadPort "${Prefix}57" -PortRange 22000-22010 -WarningVariable warnings -WarningAction SilentlyContinue
        $a57.Port | Should -Be 22001
        $a57.PSObject.TypeNames[0] | Should -Be 'DyadPorts.PortAllocation'
        $warnings[0].Message | Should -BeLike "*port 22000 is held by container dyad-app-${Prefix}56*"
        (Request-DyadPort "${Prefix}58" -PortRange 22000-22010).Port | Should -Be 22002
        (Get-CliPorts $Engine $Endpoint "dyad-app-${Prefix}56") | Should -Match '22000->22000/tcp'
    }

    It 'answers Test-DyadPortAvailable with booleans, from the pipeline by value and by property name' {
        Request-DyadPort "${Prefix}pa" -PortRange 22020-22025 | Out-Null
        (Test-DyadPortAvailable 22020) | Should -BeFalse
        (Test-DyadPortAvailable 22021) | Should -BeTrue
        if (Test-DyadPortAvailable 22022) { $branch = 'free' } else { $branch = 'held' }
        $branch | Should -Be 'free'
        (22020, 22021 | Test-DyadPortAvailable) | Should -Be @($false, $true)
        $detail = Get-DyadPortAllocation "${Prefix}pa" | Test-DyadPortAvailable -Detailed
        $detail.Source | Should -Be 'Allocation'
        $detail.HeldBy | Should -Be "allocation of app ${Prefix}pa"
    }

    It 'removes stale allocations through the pipeline, with -PassThru' {
        Start-DyadPreview "${Prefix}st" -Path $app -Image $Image -Command 'httpd -f -p "$PORT" -h /app' -PortRange 22030-22035 | Out-Null
        Request-DyadPort "${Prefix}keep" -PortRange 22030-22035 | Out-Null
        Stop-DyadPreview "${Prefix}st" -KeepAllocation
        (Get-DyadPortAllocation "${Prefix}st").Status | Should -Be 'Stale'
        $removed = Get-DyadPortAllocation "$Prefix*" | Where-Object Status -eq Stale | Remove-DyadPortAllocation -PassThru
        $removed.AppId | Should -Be "${Prefix}st"
        $removed.Status | Should -Be 'Released'
        (Read-TestState).Keys | Where-Object { $_ -like "$Prefix*" } | Should -Be @("${Prefix}keep")
    }

    It 'changes nothing under -WhatIf: not the state, not the engine' {
        Request-DyadPort "${Prefix}w1" -PortRange 22040-22045 | Out-Null
        $before = Get-Content $env:DYAD_PORTS_STATE -Raw
        Request-DyadPort "${Prefix}w2" -PortRange 22040-22045 -WhatIf
        Remove-DyadPortAllocation "${Prefix}w1" -WhatIf
        Start-DyadPreview "${Prefix}w3" -Path $app -Image $Image -PortRange 22040-22045 -WhatIf
        Stop-DyadPreview "${Prefix}w1" -WhatIf
        Get-Content $env:DYAD_PORTS_STATE -Raw | Should -Be $before
        Get-CliPorts $Engine $Endpoint "dyad-app-${Prefix}w3" | Should -BeNullOrEmpty
    }

    It 'reads a missing state from its previews'' labels under -WhatIf, and writes no state file' {
        # Stop-DyadPreview -IdleFor reads the state before it asks ShouldProcess. With the file gone, that read rebuilds
        # the state from this state's labelled containers; under -WhatIf the rebuilt state is used, and not stored.
        Start-DyadPreview "${Prefix}wm" -Path $app -Image $Image -Command 'httpd -f -p "$PORT" -h /app' -PortRange 22080-22085 | Select-Object -ExpandProperty Port | Should -Be 22080
        Remove-Item "$($env:DYAD_PORTS_STATE)*" -Force
        $said = Stop-DyadPreview -IdleFor 01:00:00 -WhatIf -Verbose 4>&1 | ForEach-Object { "$_" }
        $said | Should -Contain "App ${Prefix}wm: first sample, a baseline: only later changes count." -Because 'the rebuilt state names the preview, and the reaper samples it'
        Test-Path $env:DYAD_PORTS_STATE | Should -BeFalse -Because '-WhatIf writes nothing, not even a rebuilt state'
        # Without -WhatIf the same read restores it from the labels, and stores it.
        (Get-DyadPortAllocation "${Prefix}wm").Port | Should -Be 22080
        Test-Path $env:DYAD_PORTS_STATE | Should -BeTrue
    }

    It 'takes $WhatIfPreference as -WhatIf where -WhatIf exists, and not on a cmdlet without it' {
        Start-DyadPreview "${Prefix}wp" -Path $app -Image $Image -Command 'httpd -f -p "$PORT" -h /app' -PortRange 22090-22095 | Select-Object -ExpandProperty Port | Should -Be 22090
        Remove-Item "$($env:DYAD_PORTS_STATE)*" -Force
        $WhatIfPreference = $true
        try {
            # Stop-DyadPreview -IdleFor reads the state before it asks ShouldProcess: with the preference alone, that
            # read rebuilds the state from the labels and stores nothing, as under -WhatIf.
            $said = Stop-DyadPreview -IdleFor 01:00:00 -Verbose 4>&1 | ForEach-Object { "$_" }
            $said | Should -Contain "App ${Prefix}wp: first sample, a baseline: only later changes count."
            Test-Path $env:DYAD_PORTS_STATE | Should -BeFalse -Because '$WhatIfPreference reaches a cmdlet that supports -WhatIf'
            # Get-DyadPortAllocation has no -WhatIf: the preference does not reach it, and its read restores the state.
            (Get-DyadPortAllocation "${Prefix}wp").Port | Should -Be 22090
            Test-Path $env:DYAD_PORTS_STATE | Should -BeTrue -Because 'a cmdlet without -WhatIf is not changed by $WhatIfPreference'
        } finally {
            $WhatIfPreference = $false
        }
    }

    It 'fails with PortRangeExhausted on a full range, targeting the app and naming the range' {
        Request-DyadPort "${Prefix}x1" -PortRange 22050-22051 | Out-Null
        Request-DyadPort "${Prefix}x2" -PortRange 22050-22051 | Out-Null
        $err = { Request-DyadPort "${Prefix}x3" -PortRange 22050-22051 -ErrorAction Stop } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'PortRangeExhausted,*'
        $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        $err.TargetObject | Should -Be "${Prefix}x3"
        $err.Exception.Message | Should -BeLike '*no free port in 22050-22051*checked 2 port(s)*'
    }

    It 'starts a preview that exits at once with PreviewExitedEarly, carrying its logs, leaving nothing' {
        $err = { Start-DyadPreview "${Prefix}dies" -Path $app -Image $Image -Command 'echo dying-now; exit 4' -PortRange 22060-22065 -ErrorAction Stop } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'PreviewExitedEarly,*'
        $err.Exception.Message | Should -BeLike '*dying-now*'
        $err.TargetObject | Should -Be "${Prefix}dies"
        Get-CliPorts $Engine $Endpoint "dyad-app-${Prefix}dies" | Should -BeNullOrEmpty
        (Read-TestState).Keys | Should -Not -Contain "${Prefix}dies"
    }

    It 'warns about a corrupt state file, backs it up and rebuilds from labelled containers' {
        Start-DyadPreview "${Prefix}cor" -Path $app -Image $Image -Command 'httpd -f -p "$PORT" -h /app' -PortRange 22070-22075 | Out-Null
        'not json at all' | Set-Content $env:DYAD_PORTS_STATE
        $all = Get-DyadPortAllocation -WarningVariable warnings -WarningAction SilentlyContinue
        $warnings[0].Message | Should -BeLike 'StateFileCorrupt*'
        ($all | Where-Object AppId -eq "${Prefix}cor").Status | Should -Be 'Active'
        ($all | Where-Object AppId -eq "${Prefix}cor").Port | Should -Be 22070
        Get-ChildItem (Split-Path $env:DYAD_PORTS_STATE) -Filter 'state.json.corrupt-*' | Should -HaveCount 1
        (Invoke-WebRequest http://127.0.0.1:22070/ -UseBasicParsing).Content.Trim() | Should -Be 'pester'
    }
}

# Docker only: the engine-ports cache exists for dockerd, which lists no ports for created containers.
Describe '-WhatIf writes no cache against <Engine>' -ForEach @($Engines | Where-Object { $_.Engine -eq 'Docker' }) {
    BeforeAll { Assert-EngineAnswers $Endpoint }
    AfterAll { Remove-TestContainers $Engine $Endpoint }

    It 'creates no file under Stop-DyadPreview -IdleFor -WhatIf, not even the engine-ports cache' {
        # A created container the fresh process has never seen: dockerd lists no ports for it, so the snapshot inspects
        # it, and without -WhatIf would keep its bindings in the engine-ports file beside the state. (Podman lists them:
        # there the file is never needed, so the test would prove nothing.)
        New-TestContainer $Engine "${Prefix}whatif-cache" 22047 -NoStart | Out-Null
        $folder = Join-Path ([IO.Path]::GetTempPath()) ('dyadports-whatif-' + [guid]::NewGuid().ToString('N'))
        try {
            $out = Invoke-ChildPwsh "`$env:DYAD_PORTS_STATE = '$folder/state.json'; Stop-DyadPreview -IdleFor 00:00:01 -Engine $Engine -EngineEndpoint '$Endpoint' -WhatIf; 'looked'"
            $out | Should -Contain 'looked' -Because ($out -join "`n")
            Test-Path $folder | Should -BeFalse -Because '-WhatIf creates no file'
        } finally {
            Remove-Item $folder -Recurse -Force -ErrorAction SilentlyContinue
        }
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
        $out = Test-DyadPortAvailable -Port $Port, 26600 -Engine Process -ErrorVariable errs -ErrorAction SilentlyContinue
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

    It 'releases allocations whose AppId fails the rule for new apps or is empty (another tool wrote them), and says AppIdNotFound for one the state lacks' {
        Request-DyadPort 'rule-ok' -Engine Process -PortRange 26630-26635 | Out-Null
        $state = Get-Content $env:DYAD_PORTS_STATE -Raw | ConvertFrom-Json -AsHashtable
        $taken = $state.allocations['rule-ok'].port
        foreach ($id in 'odd id!', '') { $odd = $state.allocations['rule-ok'].Clone(); $odd.appId = $id; $odd.port = $taken + 1 + [int]($id -eq ''); $state.allocations[$id] = $odd }
        $state | ConvertTo-Json -Depth 5 | Set-Content $env:DYAD_PORTS_STATE
        { Request-DyadPort 'odd id!' -Engine Process } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
        (Test-DyadPortAvailable ($taken + 1), ($taken + 2) -Engine Process) | Should -Be @($false, $false)

        $removed = Remove-DyadPortAllocation 'odd id!', '' -PassThru
        $removed.AppId | Should -Be @('odd id!', '')
        $removed.Port | Should -Be @(($taken + 1), ($taken + 2))
        $removed.Status | Should -Be @('Released', 'Released')
        @((Read-TestState).Keys) | Should -Be @('rule-ok')
        (Test-DyadPortAvailable ($taken + 1), ($taken + 2) -Engine Process) | Should -Be @($true, $true)

        $out = 'odd id!', 'rule-ok' | Remove-DyadPortAllocation -PassThru -ErrorVariable errs -ErrorAction SilentlyContinue
        $out.AppId | Should -Be 'rule-ok'
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'AppIdNotFound,*'
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $errs[0].TargetObject | Should -Be 'odd id!'
    }

    It 'refuses a piped AppId that could not name a container alone, and handles the next one' {
        $out = 'pipe-ok1', 'bad id', 'pipe-ok2' | Request-DyadPort -Engine Process -PortRange 26620-26625 -ErrorVariable errs -ErrorAction SilentlyContinue
        $out.AppId | Should -Be @('pipe-ok1', 'pipe-ok2')
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentValidationError*'
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidData'
        (Read-TestState).Keys | Sort-Object | Should -Be @('pipe-ok1', 'pipe-ok2')
    }

    It 'reports an unknown AppId as a non-terminating AppIdNotFound' {
        Request-DyadPort known -Engine Process -PortRange 26610-26615 | Out-Null
        Remove-DyadPortAllocation nobody, known -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'AppIdNotFound,*'
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $errs[0].TargetObject | Should -Be 'nobody'
        (Read-TestState).Count | Should -Be 0
        Get-DyadPortAllocation nobody -Engine Process -ErrorVariable errs2 -ErrorAction SilentlyContinue
        $errs2[0].FullyQualifiedErrorId | Should -BeLike 'AppIdNotFound,*'
    }

    It 'reports an invalid -AppId wildcard as a non-terminating InvalidAppIdPattern and lists what the other patterns match' {
        Request-DyadPort known -Engine Process -PortRange 26616-26619 | Out-Null
        $out = Get-DyadPortAllocation 'web[', 'kno*' -Engine Process -ErrorVariable errs -ErrorAction SilentlyContinue
        $out.AppId | Should -Be 'known'
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'InvalidAppIdPattern,*'
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $errs[0].TargetObject | Should -Be 'web['
        @(Get-DyadPortHistory 'web[' -ErrorVariable herrs -ErrorAction SilentlyContinue).Count | Should -Be 0
        $herrs[0].FullyQualifiedErrorId | Should -BeLike 'InvalidAppIdPattern,*'
        @(Get-DyadPortHistory 'kno*').AppId | Should -Contain 'known'
    }

    It 'fails with EngineUnreachable naming the endpoint, never saying available' {
        $err = { Test-DyadPortAvailable 22090 -EngineEndpoint unix:///tmp/dyadports-nothing.sock } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'EngineUnreachable,*'
        $err.CategoryInfo.Category | Should -Be 'ConnectionError'
        $err.TargetObject | Should -Be 'unix:///tmp/dyadports-nothing.sock'
        $err.Exception.Message | Should -BeLike '*unix:///tmp/dyadports-nothing.sock*'
    }
}

# A command fed by a pipeline that brings no AppId (a filter upstream that matched nothing) acts on no app, as a cmdlet
# whose ProcessRecord never ran writes nothing: never on every app, as the same command alone does.
Describe 'A pipeline that brings no AppId' {
    BeforeAll {
        $null = New-TestState
        Request-DyadPort "${Prefix}np" -Engine Process -PortRange 26620-26629 | Out-Null   # one allocation, one event
        $script:Nowhere = 'unix:///nonexistent/dyadports-empty-pipeline.sock'
    }

    It 'lists no allocation, where the command alone lists every one' {
        @(Get-DyadPortAllocation -Engine Process).AppId | Should -Contain "${Prefix}np"
        @(@() | Get-DyadPortAllocation -Engine Process) | Should -BeNullOrEmpty
        @(Get-DyadPortAllocation -Engine Process | Where-Object AppId -eq 'no-such-app' | Get-DyadPortAllocation -Engine Process) | Should -BeNullOrEmpty
    }

    It 'reads no history, where the command alone reads every app''s' {
        @(Get-DyadPortHistory).AppId | Should -Contain "${Prefix}np"
        @(@() | Get-DyadPortHistory) | Should -BeNullOrEmpty
        @(Get-DyadPortAllocation -Engine Process | Where-Object Status -eq Conflict | Get-DyadPortHistory -Last 5) | Should -BeNullOrEmpty
    }

    It 'makes the idle reaper look at no preview and ask no engine, where the command alone asks the engine' {
        $err = { Stop-DyadPreview -IdleFor 00:10:00 -Engine Docker -EngineEndpoint $Nowhere } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'EngineUnreachable,*'
        $said = @() | Stop-DyadPreview -IdleFor 00:10:00 -Remove -Engine Docker -EngineEndpoint $Nowhere -Verbose 4>&1 | ForEach-Object { "$_" }
        $said | Should -Contain 'No AppId came down the pipeline: no preview was looked at.'
        (Read-TestState).Keys | Should -Contain "${Prefix}np"
    }
}

Describe 'Export-DyadPortMetrics' {
    BeforeAll { $null = New-TestState }

    It 'writes the .prom file, and with -PassThru the file as Get-Item gives it, which pipes on to Get-Content (the help''s example)' {
        $path = Join-Path (Split-Path $env:DYAD_PORTS_STATE) 'dyadports.prom'
        Request-DyadPort "${Prefix}m" -Engine Process -PortRange 26630-26639 | Out-Null
        $file = Export-DyadPortMetrics -Path $path -Engine Process -PortRange 26630-26639 -PassThru
        $file.FullName | Should -Be $path
        $file.PSPath | Should -BeLike 'Microsoft.PowerShell.Core\FileSystem::*'
        $free = Export-DyadPortMetrics -Path $path -Engine Process -PortRange 26630-26639 -PassThru | Get-Content | Select-String '^dyadports_ports_free'
        @($free).Count | Should -Be 1
    }

    It 'refuses a path of another provider with MetricsWriteFailed, and writes nothing' {
        $err = { Export-DyadPortMetrics -Path 'Env:/dyadports.prom' -Engine Process -PortRange 26630-26639 } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'MetricsWriteFailed,*'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.TargetObject | Should -Be 'Env:/dyadports.prom'
        $err.Exception.Message | Should -BeLike '*Environment provider*'
        Test-Path -LiteralPath (Join-Path ([Environment]::CurrentDirectory) 'dyadports.prom') | Should -BeFalse
    }
}
