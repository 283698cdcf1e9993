<#
.SYNOPSIS
    A warm loop of feed-off Request-DyadPort calls (or bare list calls, -Mode list) on docker with K created containers,
    for a profiler to attach to: bench/Profile-FeedOffLoop.sh. Writes "ready <pid>" to -Ready once warm, then loops
    for -Seconds, then writes "done <calls>" to -Done when given (bench/Trace-FeedOffWrites.ps1: the end of its window). Removes its containers by this run's label and its state file.
#>
param([int] $K = 60, [string] $Mode = 'off', [int] $Seconds = 14, [string] $Ready = '/tmp/dyadports-feed-off-loop.ready', [string] $Done)
. (Join-Path $PSScriptRoot 'DockerFloor.ps1')
$app = "$($TestEnv.Prefix)lp"
$state = Enter-BenchState loop
try {
    New-BenchContainers $floor @(for ($j = 0; $j -lt $K; $j++) { @{ Name = "$($TestEnv.Prefix)lp-$(26000 + $j)"; Port = 26000 + $j } })
    $env:DYAD_PORTS_ENGINE_FEED = 'off'
    for ($i = 0; $i -lt 800; $i++) { if ($Mode -eq 'list') { $null = $floor.Containers.ListContainersAsync($lp).GetAwaiter().GetResult() } else { $null = Request-DyadPort $app -Engine Docker -EngineEndpoint $ep -PortRange 25300-25399 } }
    "ready $PID" | Set-Content $Ready
    $end = [DateTime]::UtcNow.AddSeconds($Seconds); $n = 0
    while ([DateTime]::UtcNow -lt $end) { if ($Mode -eq 'list') { $null = $floor.Containers.ListContainersAsync($lp).GetAwaiter().GetResult() } else { $null = Request-DyadPort $app -Engine Docker -EngineEndpoint $ep -PortRange 25300-25399 }; $n++ }
    if ($Done) { "done $n" | Set-Content $Done }   # after the timed loop, before the release below: a tracer's window ends here
    "calls $n"
    Remove-DyadPortAllocation $app
} finally {
    $env:DYAD_PORTS_ENGINE_FEED = $null
    Exit-BenchState $state
    "# removed $(Remove-BenchContainersOfRun $floor) containers of this run"
}
