<#
.SYNOPSIS
    Two builds of the module side by side on bench section 7's docker K=60 feed-off row (issue 18): each round runs one
    fresh pwsh per build, in order A B and B A by turns, and each child times a warm feed-off Request-DyadPort against
    one bare list call, interleaved, once the runtime has settled.
.DESCRIPTION
    Creates K containers of this run (bench/BenchContainers.ps1) once. Each child imports the build it is given, warms
    up with -Warm pairs of (one bare list call, one feed-off Request-DyadPort of the same app), then times -Runs such
    pairs and prints the two medians, their ratio and difference, its CPU per pair and the methods the JIT compiled per
    pair (System.Runtime.JitInfo) and its gen-0 and gen-2 collections. The bare list is the bench's "one list":
    Docker.DotNet in the default load context. The parent prints each build's median ratio over the rounds. Removes its
    containers by this run's label, and each child its own state file.
.EXAMPLE
    dotnet pwsh -NoProfile -File bench/Compare-FeedOffBuilds.ps1 -Before /tmp/before/DyadPorts -After ./out/DyadPorts
#>
param(
    [Parameter(Mandatory)] [string] $Before,
    [Parameter(Mandatory)] [string] $After,
    [int] $K = 60, [int] $Rounds = 4, [int] $Warm = 500, [int] $Runs = 500,
    [switch] $Child, [string] $Module
)
$ErrorActionPreference = 'Stop'
Set-Location (Join-Path $PSScriptRoot '..')
. ./tools/TestEnv.ps1
. ./bench/BenchState.ps1
function Med($a) { $s = @($a | Sort-Object); $s[[int][math]::Floor($s.Count / 2)] }

if ($Child) {
    Import-Module $Module -Force
    Add-Type -Path (Join-Path $Module 'deps/Docker.DotNet.dll')
    $ep = $TestEnv.Docker
    $floor = [Docker.DotNet.DockerClientConfiguration]::new([uri]$ep).CreateClient()
    $lp = [Docker.DotNet.Models.ContainersListParameters]@{ All = $true }
    $app = "$($TestEnv.Prefix)cb"
    $state = Enter-BenchState compare
    $env:DYAD_PORTS_ENGINE_FEED = 'off'
    try {
        for ($i = 0; $i -lt $Warm; $i++) {
            $null = $floor.Containers.ListContainersAsync($lp).GetAwaiter().GetResult()
            $null = Request-DyadPort $app -Engine Docker -EngineEndpoint $ep -PortRange 25300-25399
        }
        $lists = [Collections.Generic.List[double]]::new(); $requests = [Collections.Generic.List[double]]::new()
        $proc = [Diagnostics.Process]::GetCurrentProcess(); $cpu = $proc.TotalProcessorTime
        $jit = [System.Runtime.JitInfo]::GetCompiledMethodCount($false); $g0 = [GC]::CollectionCount(0); $g2 = [GC]::CollectionCount(2)
        for ($r = 0; $r -lt $Runs; $r++) {
            $t = [Diagnostics.Stopwatch]::StartNew(); $null = $floor.Containers.ListContainersAsync($lp).GetAwaiter().GetResult(); $lists.Add($t.Elapsed.TotalMilliseconds)
            $t = [Diagnostics.Stopwatch]::StartNew(); $null = Request-DyadPort $app -Engine Docker -EngineEndpoint $ep -PortRange 25300-25399; $requests.Add($t.Elapsed.TotalMilliseconds)
        }
        $proc.Refresh()
        $l = Med $lists; $q = Med $requests
        "list {0:N3} request {1:N3} ratio {2:N3} diff {3:N3} cpu/pair {4:N3} jit/pair {5:N2} gen0 {6} gen2 {7}" -f $l, $q, ($q / $l), ($q - $l),
            (($proc.TotalProcessorTime - $cpu).TotalMilliseconds / $Runs), (([System.Runtime.JitInfo]::GetCompiledMethodCount($false) - $jit) / $Runs),
            ([GC]::CollectionCount(0) - $g0), ([GC]::CollectionCount(2) - $g2)
        Remove-DyadPortAllocation $app
    } finally {
        Exit-BenchState $state
    }
    return
}

Add-Type -Path (Join-Path $After 'deps/Docker.DotNet.dll')
. ./bench/BenchContainers.ps1
$client = [Docker.DotNet.DockerClientConfiguration]::new([uri]$TestEnv.Docker).CreateClient()
. ./tools/ChildPwsh.ps1
"# feed-off, two builds side by side, $(Get-Date -Format o); docker $($TestEnv.Docker); K=$K; $Rounds rounds A B / B A; $Warm warm-up and $Runs timed pairs per child; commit $(git rev-parse --short HEAD); $(nproc) cores; load $((Get-Content /proc/loadavg -Raw).Trim())"
"# pwsh $($PSVersionTable.PSVersion); dotnet $([Environment]::Version); A (before) $Before; B (after) $After"
$ratios = @{ A = @(); B = @() }
try {
    New-BenchContainers $client @(for ($j = 0; $j -lt $K; $j++) { @{ Name = "$($TestEnv.Prefix)cb-$(26000 + $j)"; Port = 26000 + $j } })
    for ($round = 1; $round -le $Rounds; $round++) {
        $order = if ($round % 2) { 'A', 'B' } else { 'B', 'A' }
        foreach ($which in $order) {
            $path = if ($which -eq 'A') { $Before } else { $After }
            $line = & $ChildPwsh @(Get-ChildPwshArgument '-NoProfile', '-File', $PSCommandPath, '-Child', '-Module', $path, '-Before', $Before, '-After', $After, '-Warm', $Warm, '-Runs', $Runs) | Select-Object -Last 1
            "round $round $which $line"
            if ($line -match 'ratio ([\d.]+)') { $ratios[$which] += [double]$Matches[1] }
        }
    }
    "median ratio A (before) {0:N3}  B (after) {1:N3}" -f (Med $ratios.A), (Med $ratios.B)
} finally {
    "# removed $(Remove-BenchContainersOfRun $client) containers of this run; load $((Get-Content /proc/loadavg -Raw).Trim())"
}
