BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $ModulePath -Force
    $docker = $Engines | Where-Object Engine -eq 'Docker'
    Assert-EngineAnswers $docker.Endpoint
}

Describe 'Concurrent callers never get the same port' {
    BeforeEach { $null = New-TestState }

    It 'hands out no duplicate across 8 runspaces of ForEach-Object -Parallel' {
        $module = $ModulePath; $endpoint = $docker.Endpoint
        $ports = 1..40 | ForEach-Object -ThrottleLimit 8 -Parallel {
            Import-Module $using:module
            (Request-DyadPort "$($using:Prefix)par$_" -PortRange 27000-27100 -EngineEndpoint $using:endpoint -Engine Docker).Port
        }
        $ports | Should -HaveCount 40
        ($ports | Sort-Object -Unique) | Should -HaveCount 40
        (Read-TestState).Count | Should -Be 40
    }

    It 'hands out no duplicate across <Processes> pwsh processes x <Each> requests, and the state holds them all' -ForEach @(
        @{ Processes = 4; Each = 10 }
        @{ Processes = 8; Each = 25 }
    ) {
        $endpoint = $docker.Endpoint
        $jobs = 1..$Processes | ForEach-Object {
            $p = $_
            $script = "1..$Each | ForEach-Object { (Request-DyadPort ""${Prefix}cp$p-`$_"" -PortRange 27200-27500 -EngineEndpoint '$endpoint' -Engine Docker).Port }"
            Start-ChildPwsh $script -StandardOutput "$TestDrive/out$p.txt" -StandardError "$TestDrive/err$p.txt"
        }
        $jobs | Wait-Process -Timeout 300
        for ($i = 0; $i -lt $jobs.Count; $i++) { $jobs[$i].ExitCode | Should -Be 0 -Because (Get-Content "$TestDrive/err$($i + 1).txt" -Raw) }
        $ports = 1..$Processes | ForEach-Object { Get-Content "$TestDrive/out$_.txt" } | Where-Object { $_ -match '^\d+$' }
        $ports | Should -HaveCount ($Processes * $Each)
        ($ports | Sort-Object -Unique) | Should -HaveCount ($Processes * $Each)
        $state = Read-TestState
        $state.Count | Should -Be ($Processes * $Each)
        ($state.Values.port | Sort-Object -Unique) | Should -HaveCount ($Processes * $Each)
    }
}

Describe 'Crash safety: kill -9 in the middle of allocating' -Skip:(-not $IsLinux) {
    It 'keeps a parseable state, every acknowledged allocation, and no stuck lock over 20 rounds' {
        $null = New-TestState
        $ackFile = "$TestDrive/acks.txt"
        $rng = [Random]::new(20261126)
        for ($round = 1; $round -le 20; $round++) {
            # The child acknowledges an allocation only after Request-DyadPort has returned it.
            $script = "`$i = 0; while (`$true) { `$i++; `$a = Request-DyadPort ""${Prefix}r$round-`$i"" -Engine Process -PortRange 28000-29899; Add-Content -Path '$ackFile' -Value ""`$(`$a.AppId)=`$(`$a.Port)"" }"
            $child = Start-ChildPwsh $script
            # The kill lands at a random 0-1.2 s after the child's first allocation of the round (pwsh start-up time
            # varies a lot on a loaded 2-core machine, so a fixed delay could kill it before it ever allocated).
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (-not ((Test-Path $ackFile) -and (Select-String -Path $ackFile -SimpleMatch "${Prefix}r$round-1=" -Quiet)) -and -not $child.HasExited -and [DateTime]::UtcNow -lt $deadline) {
                Start-Sleep -Milliseconds 50
            }
            $child.HasExited | Should -BeFalse -Because "the child of round $round must be allocating when it is killed"
            Start-Sleep -Milliseconds ($rng.Next(1200))
            Stop-ChildPwsh $child | Should -BeTrue   # kill -9, by its pid

            $state = Get-Content $env:DYAD_PORTS_STATE -Raw | ConvertFrom-Json -AsHashtable   # parses, or throws
            $acks = if (Test-Path $ackFile) { Get-Content $ackFile } else { @() }
            foreach ($ack in $acks) {
                $id, $port = $ack -split '='
                $state.allocations[$id].port | Should -Be ([int]$port) -Because "allocation $ack was acknowledged before the kill (round $round)"
            }
            # The dead process's lock is gone: this process can update the state at once.
            (Request-DyadPort "${Prefix}after$round" -Engine Process -PortRange 28000-29899).Port | Should -BeGreaterThan 0
        }
        (Get-Content $ackFile).Count | Should -BeGreaterThan 20
    }
}
