# Start-DyadPortAgent against the built module (issue 18: a one-shot command that does not list every container): the
# agent runs in a child pwsh this file starts, and stops by its pid; one-shot commands run in child pwsh processes of
# their own. Each agent listens in a temporary folder of its own. Ports 27450-27499.
BeforeDiscovery { . (Join-Path $PSScriptRoot 'Common.ps1') }
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $ModulePath -Force

    function New-AgentFolder {
        New-TestFolder 'agent'
    }

    # An agent in a child pwsh, its status in <folder>/agent.out; returns the process once the status is there (or it ended).
    function Start-TestAgent([string] $Folder, [string] $Engine, [string] $Endpoint) {
        $socket = Join-Path $Folder 'agent.sock'
        $out = Join-Path $Folder 'agent.out'
        $agent = Start-ChildPwsh "Start-DyadPortAgent -Path '$socket' -Engine $Engine -EngineEndpoint '$Endpoint' | ForEach-Object { 'pid={0} live={1} path={2}' -f `$_.ProcessId, `$_.Live, `$_.Path }" -StandardOutput $out -StandardError (Join-Path $Folder 'agent.err')
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while (-not ((Test-Path $out) -and (Select-String -Path $out -Pattern 'pid=' -Quiet)) -and -not $agent.HasExited -and [DateTime]::UtcNow -lt $deadline) {
            Start-Sleep -Milliseconds 100
        }
        $agent
    }
}

Describe 'Start-DyadPortAgent against <Engine>' -ForEach $Engines {
    BeforeAll {
        Assert-EngineAnswers $Endpoint
        $folder = New-AgentFolder
        $socket = Join-Path $folder 'agent.sock'
        $out = Join-Path $folder 'agent.out'
        $agent = Start-TestAgent $folder $Engine $Endpoint
    }
    AfterAll {
        # Only the process this file started, by its pid.
        if ($agent) { $null = Stop-ChildPwsh $agent -Signal TERM }
        Remove-Item -Recurse -Force $folder -ErrorAction SilentlyContinue
        Remove-TestContainers $Engine $Endpoint
    }

    It 'writes its status once its view answers, naming the process it runs in and its socket' {
        $agent.HasExited | Should -BeFalse -Because (Get-Content (Join-Path $folder 'agent.err') -Raw)
        Get-Content $out -Raw | Should -Match ([regex]::Escape("pid=$($agent.Id) live=True path=$socket"))
        (Get-Item $socket).UnixFileMode | Should -Be ([IO.UnixFileMode]'UserRead, UserWrite')
    }

    It 'lends its view to a one-shot command in another process' {
        $said = Invoke-ChildPwsh "`$env:DYAD_PORTS_AGENT = '$socket'; `$env:DYAD_PORTS_STATE = '$folder/state.json'; `$a = Request-DyadPort '${Prefix}agent' -Engine $Engine -EngineEndpoint '$Endpoint' -PortRange 27450-27459 -Verbose 4>&1; `$a | ForEach-Object { if (`$_ -is [System.Management.Automation.VerboseRecord]) { 'verbose: ' + `$_.Message } else { 'port: ' + `$_.Port } }"
        $said | Should -Contain 'port: 27450'
        @($said | Where-Object { $_ -like "verbose: *in the view of the DyadPorts agent at $socket*" }).Count | Should -Be 1
        @($said | Where-Object { $_ -like 'verbose: *container(s) listed*' }).Count | Should -Be 0
    }

    It 'is reported by Get-DyadPortAgent: its process, its live view, and the one-shot it answered' {
        $info = Get-DyadPortAgent -Path $socket
        $info | Should -BeOfType ([DyadPorts.AgentInfo])
        $info.ProcessId | Should -Be $agent.Id
        $info.Path | Should -Be $socket
        $info.Answered | Should -Be 1 -Because 'the one-shot before this test read its view'
        $info.Endpoints.Endpoint | Should -Be @($Endpoint)
        $info.Endpoints[0].Engine | Should -Be $Engine
        $info.Endpoints[0].Live | Should -BeTrue
        # The socket from DYAD_PORTS_AGENT when no -Path is given, and from the pipeline by property name (an AgentStatus's Path).
        $saved = $env:DYAD_PORTS_AGENT
        $env:DYAD_PORTS_AGENT = $socket
        try { (Get-DyadPortAgent).ProcessId | Should -Be $agent.Id } finally { $env:DYAD_PORTS_AGENT = $saved }
        ([pscustomobject]@{ Path = $socket } | Get-DyadPortAgent).ProcessId | Should -Be $agent.Id
    }

    It 'is refused by a second agent at the same path, and the first keeps its socket' {
        # In a runspace of this process, bounded: were the refusal broken, the second agent would serve until stopped.
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$ModulePath'; try { Start-DyadPortAgent -Path '$socket' -Engine $Engine -EngineEndpoint '$Endpoint' } catch { `$_ }")
            $handle = $ps.BeginInvoke()
            if (-not $handle.AsyncWaitHandle.WaitOne(30000)) { $ps.Stop(); throw 'the second agent did not refuse within 30 s' }
            $err = @($ps.EndInvoke($handle))[0]
        } finally { $ps.Dispose() }
        $err.FullyQualifiedErrorId | Should -BeLike 'AgentSocketInUse,*'
        $err.TargetObject | Should -Be $socket
        $err.Exception.Message | Should -BeLike "*Another DyadPorts agent listens at $socket*"
        Test-Path $socket | Should -BeTrue
        $agent.HasExited | Should -BeFalse
    }
}

Describe 'Start-DyadPortAgent stopped by SIGTERM' {
    BeforeAll { $folder = New-AgentFolder }
    AfterAll {
        if ($agent) { $null = Stop-ChildPwsh $agent -Signal TERM }
        Remove-Item -Recurse -Force $folder -ErrorAction SilentlyContinue
    }

    It 'ends normally (exit 0) and removes its socket, as a service manager''s stop expects' {
        $engine = $Engines[0]
        $agent = Start-TestAgent $folder $engine.Engine $engine.Endpoint
        Get-Content (Join-Path $folder 'agent.out') -Raw | Should -Match 'live=True'
        Test-Path (Join-Path $folder 'agent.sock') | Should -BeTrue
        Stop-ChildPwsh $agent -Signal TERM | Should -BeTrue   # the process this test started, by its pid
        $agent.ExitCode | Should -Be 0 -Because (Get-Content (Join-Path $folder 'agent.err') -Raw)
        Test-Path (Join-Path $folder 'agent.sock') | Should -BeFalse
    }
}

Describe 'Start-DyadPortAgent refusals' {
    BeforeAll { $folder = New-AgentFolder }
    AfterAll { Remove-Item -Recurse -Force $folder -ErrorAction SilentlyContinue }

    It 'needs a container engine: the process engine is AgentNeedsEngine' {
        try { Start-DyadPortAgent -Engine Process -Path (Join-Path $folder 'p.sock') } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'AgentNeedsEngine,*'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        Test-Path (Join-Path $folder 'p.sock') | Should -BeFalse
    }

    It 'listens nowhere under -WhatIf' {
        $engine = $Engines[0]
        Start-DyadPortAgent -Engine $engine.Engine -EngineEndpoint $engine.Endpoint -Path (Join-Path $folder 'w.sock') -WhatIf | Should -BeNullOrEmpty
        Test-Path (Join-Path $folder 'w.sock') | Should -BeFalse
    }

    It 'asks no engine under -WhatIf: an endpoint nothing answers at still gives the What if line, and no error' {
        # In a child pwsh, whose host writes the What if line to its output (ErrorActionPreference Stop: an error ends it before 'done').
        $out = @(Invoke-ChildPwsh "Start-DyadPortAgent -Engine Docker -EngineEndpoint 'unix:///nonexistent/dyadports-whatif.sock' -Path '$(Join-Path $folder 'n.sock')' -WhatIf; 'done'")
        @($out | Where-Object { "$_" -like 'What if:*lend them a live view of the engine at unix:///nonexistent/dyadports-whatif.sock*' }).Count | Should -Be 1 -Because ($out -join "`n")
        $out[-1] | Should -Be 'done'
        Test-Path (Join-Path $folder 'n.sock') | Should -BeFalse
    }

    It 'Get-DyadPortAgent writes a non-terminating AgentNotRunning for a socket with no agent, and goes on to the next' {
        $none = Join-Path $folder 'none.sock'
        $other = Join-Path $folder 'other.sock'
        $result = @(Get-DyadPortAgent -Path $none, $other -ErrorVariable errs -ErrorAction SilentlyContinue)
        $result | Should -BeNullOrEmpty
        $errs.Count | Should -Be 2
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'AgentNotRunning,*'
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $errs[0].TargetObject | Should -Be $none
        $errs[1].TargetObject | Should -Be $other
    }

    It 'Get-DyadPortAgent with DYAD_PORTS_AGENT off and no -Path is AgentSocketInvalid' {
        $saved = $env:DYAD_PORTS_AGENT
        $env:DYAD_PORTS_AGENT = 'off'
        try { Get-DyadPortAgent } catch { $err = $_ } finally { $env:DYAD_PORTS_AGENT = $saved }
        $err.FullyQualifiedErrorId | Should -BeLike 'AgentSocketInvalid,*'
        $err.TargetObject | Should -Be 'DYAD_PORTS_AGENT'
    }

    It 'takes DYAD_PORTS_AGENT as an absolute path only: a relative one fails the command with AgentSocketInvalid' {
        $engine = $Engines[0]
        $out = Invoke-ChildPwsh "`$env:DYAD_PORTS_AGENT = 'agent.sock'; `$env:DYAD_PORTS_STATE = '$folder/state.json'; try { Request-DyadPort '${Prefix}agent-rel' -Engine $($engine.Engine) -EngineEndpoint '$($engine.Endpoint)' -PortRange 27460-27469 } catch { `$_.FullyQualifiedErrorId; `$_.TargetObject }"
        $out[0] | Should -BeLike 'AgentSocketInvalid,*'
        $out[1] | Should -Be 'agent.sock'
    }
}
