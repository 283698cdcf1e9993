# History, usage and metrics through the built module, in separate pwsh processes (issue 13). Ports 24000-24999.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $ModulePath -Force
}

Describe 'The history' {
    BeforeEach { $null = New-TestState }

    It 'emits typed events with a table view' {
        Request-DyadPort h1 -Engine Process -PortRange 24000-24009 | Out-Null
        Request-DyadPort h1 -Engine Process -PortRange 24000-24009 -Force | Out-Null
        Remove-DyadPortAllocation h1
        $events = Get-DyadPortHistory h1
        $events.Kind | Should -Be @('Allocated', 'Reused', 'Released')
        $events[0].PSObject.TypeNames[0] | Should -Be 'DyadPorts.PortEvent'
        (Get-DyadPortHistory -Kind Released).AppId | Should -Be 'h1'
        (Get-DyadPortHistory -Last 1).Kind | Should -Be 'Released'
        (Get-DyadPortHistory -Since (Get-Date).AddMinutes(1)) | Should -BeNullOrEmpty
        $table = Get-DyadPortHistory h1 | Out-String -Width 120
        $table | Should -Match 'Kind\s+AppId\s+Port'
        $table | Should -Match 'Allocated\s+h1\s+24000'
    }

    It 'survives kill -9 during appends and still reads' -Skip:(-not $IsLinux) {
        $rng = [Random]::new(20261127)
        for ($round = 1; $round -le 8; $round++) {
            $script = "`$i = 0; while (`$true) { `$i++; Request-DyadPort ""k$round-`$i"" -Engine Process -PortRange 24100-24999 | Out-Null }"
            $child = Start-ChildPwsh $script
            # Kill it while it appends: once its first events are in, at a random moment.
            $journal = "$env:DYAD_PORTS_STATE.history.jsonl"
            $seen = if (Test-Path $journal) { (Get-Item $journal).Length } else { 0 }
            $deadline = (Get-Date).AddSeconds(60)
            while (((-not (Test-Path $journal)) -or (Get-Item $journal).Length -le $seen) -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 50 }
            Start-Sleep -Milliseconds (100 + $rng.Next(700))
            Stop-ChildPwsh $child | Should -BeTrue   # kill -9, by its pid
            $events = @(Get-DyadPortHistory -WarningVariable torn -WarningAction SilentlyContinue)
            @($torn).Count | Should -BeLessOrEqual 1 -Because 'a crash leaves at most one torn last line'
            $events.Count | Should -BeGreaterThan 0
        }
        # The next writer cuts any torn line first: afterwards everything reads without a warning.
        Request-DyadPort after-kills -Engine Process -PortRange 24100-24999 | Out-Null
        $all = @(Get-DyadPortHistory -WarningVariable torn)
        @($torn).Count | Should -Be 0
        $all[-1].AppId | Should -Be 'after-kills'
        $state = Get-Content $env:DYAD_PORTS_STATE -Raw | ConvertFrom-Json -AsHashtable
        $state.counters.Allocated | Should -BeGreaterOrEqual ($all | Where-Object Kind -eq Allocated).Count
    }
}

Describe 'The usage map' {
    BeforeEach { $null = New-TestState }

    It 'draws holders as letters with a legend, plain when redirected' {
        Request-DyadPort u1 -Engine Process -PortRange 24010-24010 | Out-Null
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 24012)
        $listener.Start()
        try {
            $usage = Get-DyadPortUsage 24010-24029 -Engine Process
            $usage.PSObject.TypeNames[0] | Should -Be 'DyadPorts.PortUsage'
            ($usage.Free, $usage.HeldByAllocation, $usage.HeldByHost) | Should -Be @(18, 1, 1)
            $text = $usage | Out-String -Width 100
            $text | Should -Match '24010\s+A\.H\.\.\.\.\.\.\. \.\.\.\.\.\.\.\.\.\.'
            $text | Should -Match 'Legend: C container\s+A allocation\s+H host process\s+\. free'
            $text | Should -Match '18 of 20 free'
            $text | Should -Not -Match "`e\[" -Because 'pwsh drops colour when output is redirected'

            # With colour on, each line carries only its own codes: the legend after the map is plain text.
            $saved = $PSStyle.OutputRendering
            try { $PSStyle.OutputRendering = 'Ansi'; $colored = ($usage | Out-String -Width 100) -split "`r?`n" }
            finally { $PSStyle.OutputRendering = $saved }
            ($colored | Where-Object { $_ -match '^24010' }) | Should -Match "`e\["
            ($colored | Where-Object { $_ -like '*Legend:*' }) | Should -Be 'Legend: C container   A allocation   H host process   . free'
        }
        finally { $listener.Stop() }
    }
}
