<#
.SYNOPSIS
    What a live engine view costs each engine in the background, read and idle: the engine service's CPU and the view's
    own calls (pings, catch-ups) over a window, while a session reads its view (a feed-on Request-DyadPort every 200 ms,
    which itself calls no engine) and once nobody has read it for longer than ViewTiming.ReadRecently.
.DESCRIPTION
    For each engine of the test environment: starts the session's view (two requests), waits until it is live, then
    measures -Seconds of reading and, after ViewTiming.ReadRecently plus 5 s without a read, -Seconds idle. The engine's
    CPU is its service process's utime + stime (/proc/<pid>/stat) over the window; the process is the one
    tools/setup-engines.sh started, from its pid file (podman.pid, dockerd.pid in the project's state directory), as
    bench/Measure-PodmanCatchUpCpu.sh reads it. Podman 4.3's catch-up reads its events file, so its size is printed. Keeps its state in a
    folder of its own (bench/BenchState.ps1). Creates no container.
.EXAMPLE
    dotnet pwsh -NoProfile -File bench/Measure-ViewBackground.ps1 -Seconds 30
#>
param([int] $Seconds = 30)
$ErrorActionPreference = 'Stop'
Set-Location (Join-Path $PSScriptRoot '..')
. ./tools/TestEnv.ps1
. ./bench/BenchState.ps1
Import-Module ./out/DyadPorts -Force
$hz = [double](& getconf CLK_TCK)
# The engine service tools/setup-engines.sh started: its pid file, checked against the process's command line.
function Get-EnginePid([string] $PidFile, [string] $Command) {
    $path = Join-Path $TestEnv.State $PidFile
    $enginePid = if (Test-Path $path) { [int](Get-Content $path -Raw).Trim() }
    if (-not $enginePid -or -not (Test-Path "/proc/$enginePid/cmdline") -or -not ((Get-Content "/proc/$enginePid/cmdline" -Raw) -replace "`0", ' ').Contains($Command)) {
        throw "$path names no running '$Command' (an engine tools/setup-engines.sh did not start): its CPU cannot be read here"
    }
    $enginePid
}
function Get-CpuSeconds([int] $ProcessId) {
    $fields = ((Get-Content "/proc/$ProcessId/stat" -Raw) -replace '^.*\) ', '') -split ' '
    ([double]$fields[11] + [double]$fields[12]) / $hz # utime, stime: fields 14 and 15 of stat
}
$timing = Get-CoreType 'DyadPorts.Core.Engines.ViewTiming'
$readRecently = $timing::ReadRecently
"# engine views in the background, $(Get-Date -Format o); commit $(git rev-parse --short HEAD); window $Seconds s; ReadRecently $($readRecently.TotalSeconds) s; ReadCatchUpRepeat $($timing::ReadCatchUpRepeat.TotalSeconds) s; QuietCatchUpRepeat $($timing::QuietCatchUpRepeat.TotalSeconds) s; load $((Get-Content /proc/loadavg -Raw).Trim())"
$events = '/run/libpod/events/events.log'
if (Test-Path $events) { "# podman events file $events : $((Get-Item $events).Length) bytes" }
$state = Enter-BenchState viewbg
try {
    $sess = [DyadPorts.Infrastructure.ModuleSession]::Current
    foreach ($engine in @(@{ Name = 'Podman'; Endpoint = $TestEnv.Podman; PidFile = 'podman.pid'; Command = 'podman system service' }, @{ Name = 'Docker'; Endpoint = $TestEnv.Docker; PidFile = 'dockerd.pid'; Command = 'dockerd' })) {
        $ep = $engine.Endpoint
        $request = { $null = Request-DyadPort "$($TestEnv.Prefix)viewbg" -Engine $engine.Name -EngineEndpoint $ep -PortRange 25400-25499 }
        & $request; & $request
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        while (-not $sess.Views.IsLive($ep) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        if (-not $sess.Views.IsLive($ep)) { throw "the view of $ep is not live after 30 s" }
        $view = $sess.Views.For($ep)
        $enginePid = Get-EnginePid $engine.PidFile $engine.Command
        foreach ($phase in 'read', 'idle') {
            if ($phase -eq 'idle') { Start-Sleep -Seconds ($readRecently.TotalSeconds + 5) }
            $cpu = Get-CpuSeconds $enginePid; $calls = $view.Calls; $lists = $view.Lists; $reads = 0
            $clock = [Diagnostics.Stopwatch]::StartNew()
            while ($clock.Elapsed.TotalSeconds -lt $Seconds) {
                if ($phase -eq 'read') { & $request; $reads++ }
                Start-Sleep -Milliseconds 200
            }
            $elapsed = $clock.Elapsed.TotalSeconds
            $used = (Get-CpuSeconds $enginePid) - $cpu
            '{0,-6} {1,-4}: {2,5:N1} s; engine pid {3} ({10}) CPU {4:N2} s ({5:N2}% of a core); view calls {6} ({7:N2}/s); lists {8}; requests {9}' -f `
                $engine.Name.ToLowerInvariant(), $phase, $elapsed, $enginePid, $used, (100 * $used / $elapsed), ($view.Calls - $calls), (($view.Calls - $calls) / $elapsed), ($view.Lists - $lists), $reads, (Get-Content "/proc/$enginePid/comm" -Raw).Trim()
        }
    }
}
finally {
    Exit-BenchState $state
}
