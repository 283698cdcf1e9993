<#
.SYNOPSIS
    The feed-off / list ratio of a warm Request-DyadPort once the runtime has stopped compiling (issue 18, bench
    section 7's docker K=60 row), block by block.
.DESCRIPTION
    Creates K containers of this run (bench/BenchContainers.ps1), then runs -Blocks blocks of -Runs rounds in one
    process. Each round times one bare list call (Docker.DotNet in the default context, as the bench's "one list")
    and one feed-off Request-DyadPort of the same app (its port reused: the state's counters and the history change,
    so each request writes the state and appends to the history, two fsyncs). Per block it prints the two medians,
    their ratio and difference, the process's CPU per round and the methods the JIT compiled per round
    (System.Runtime.JitInfo): the first blocks show the tiered JIT still at work, the last ones the steady state.
    Then one block of feed-on requests (the session's view live): the whole of a request's work past its list.
    Removes its containers by this run's label and its state file.
.EXAMPLE
    dotnet pwsh -NoProfile -File bench/Measure-FeedOffSteady.ps1 -K 60 -Runs 500 -Blocks 6
#>
param([int] $K = 60, [int] $Runs = 500, [int] $Blocks = 6)
. (Join-Path $PSScriptRoot 'DockerFloor.ps1')
$app = "$($TestEnv.Prefix)st"
function Med($a) { $s = @($a | Sort-Object); $s[[int][math]::Floor($s.Count / 2)] }
"# feed-off steady state, $(Get-Date -Format o); docker $ep; K=$K; $Blocks blocks of $Runs rounds; commit $(git rev-parse --short HEAD); $(nproc) cores; load $((Get-Content /proc/loadavg -Raw).Trim())"
"# pwsh $($PSVersionTable.PSVersion); dotnet $([Environment]::Version); DOTNET_TieredCompilation=$env:DOTNET_TieredCompilation DOTNET_TieredPGO=$env:DOTNET_TieredPGO"
$state = Enter-BenchState steady
try {
    New-BenchContainers $floor @(for ($j = 0; $j -lt $K; $j++) { @{ Name = "$($TestEnv.Prefix)st-$(26000 + $j)"; Port = 26000 + $j } })
    $proc = [Diagnostics.Process]::GetCurrentProcess()
    $block = {
        param([string] $Feed, [int] $Number, [bool] $WithList)
        $env:DYAD_PORTS_ENGINE_FEED = $Feed
        $lists = [Collections.Generic.List[double]]::new(); $requests = [Collections.Generic.List[double]]::new()
        $jit = [System.Runtime.JitInfo]::GetCompiledMethodCount($false); $proc.Refresh(); $cpu = $proc.TotalProcessorTime
        for ($r = 0; $r -lt $Runs; $r++) {
            if ($WithList) { $t = [Diagnostics.Stopwatch]::StartNew(); $null = $floor.Containers.ListContainersAsync($lp).GetAwaiter().GetResult(); $lists.Add($t.Elapsed.TotalMilliseconds) }
            $t = [Diagnostics.Stopwatch]::StartNew(); $null = Request-DyadPort $app -Engine Docker -EngineEndpoint $ep -PortRange 25300-25399; $requests.Add($t.Elapsed.TotalMilliseconds)
        }
        $proc.Refresh()
        $perRound = "cpu {0,6:N2} ms/round  jit {1,5:N1} methods/round" -f (($proc.TotalProcessorTime - $cpu).TotalMilliseconds / $Runs), (([System.Runtime.JitInfo]::GetCompiledMethodCount($false) - $jit) / $Runs)
        if ($WithList) {
            $l = Med $lists; $q = Med $requests
            "block {0} feed off: list {1,6:N2} ms  request {2,6:N2} ms  ratio {3:N2}  request - list {4,5:N2} ms  {5}" -f $Number, $l, $q, ($q / $l), ($q - $l), $perRound
        } else {
            "block {0} feed on:  request {1,6:N2} ms (no list)  {2}" -f $Number, (Med $requests), $perRound
        }
    }
    for ($b = 1; $b -le $Blocks; $b++) { & $block 'off' $b $true }
    for ($i = 0; $i -lt 3; $i++) { $env:DYAD_PORTS_ENGINE_FEED = 'on'; $null = Request-DyadPort $app -Engine Docker -EngineEndpoint $ep -PortRange 25300-25399 }
    $session = [DyadPorts.Infrastructure.ModuleSession]::Current
    $deadline = [DateTime]::UtcNow.AddSeconds(30); while (-not $session.Views.IsLive($ep) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
    if (-not $session.Views.IsLive($ep)) { throw "the engine view of $ep is not live after 30 s" }
    & $block 'on' ($Blocks + 1) $false
    Remove-DyadPortAllocation $app
} finally {
    $env:DYAD_PORTS_ENGINE_FEED = $null
    Exit-BenchState $state
    "# removed $(Remove-BenchContainersOfRun $floor) containers of this run; load $((Get-Content /proc/loadavg -Raw).Trim())"
}
