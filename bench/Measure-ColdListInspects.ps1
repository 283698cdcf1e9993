<#
.SYNOPSIS
    A cold list on docker with K created containers no client has seen: one list, then one inspect per container for its
    bindings (docker lists none for created containers). Two builds side by side, A B A B, each round in fresh processes.
.DESCRIPTION
    Makes K created, never started, containers over the API (8 at a time; bench/BenchContainers.ps1), labelled with this
    run's test label, publishing host ports PortBase.. (outside every range, below Linux's ephemeral range). Then, for
    each of -Rounds rounds, runs one fresh pwsh per build (alternating which goes first), which imports that build, takes
    one snapshot with a new ContainerEngine to warm the JIT, and times -Lists more, each with a new ContainerEngine
    (empty memory, no engine-ports file): what a one-shot process that meets these containers for the first time pays.
    Prints every process's times, then each build's median and the paired median ratio. Removes the containers (this
    run's label only).
.EXAMPLE
    dotnet pwsh -NoProfile -File bench/Measure-ColdListInspects.ps1 -ModulePath ./out/DyadPorts -BaselineModulePath /tmp/before/out/DyadPorts -Containers 240
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $BaselineModulePath,
    [int] $Containers = 240,
    [int] $Rounds = 7,
    [int] $Lists = 5,
    [int] $PortBase = 26000
)
$ErrorActionPreference = 'Stop'
$env:DYADPORTS_TEST_RUN = [guid]::NewGuid().ToString('N')   # this run's label: only its containers are removed
. (Join-Path $PSScriptRoot '../tools/TestEnv.ps1')
if (-not $TestEnv.Image) { throw "No test image: run 'sudo bash tools/setup-engines.sh' first." }
Add-Type -Path (Join-Path $ModulePath 'deps/Docker.DotNet.dll')
$endpoint = $TestEnv.Docker
$client = [Docker.DotNet.DockerClientConfiguration]::new([uri]$endpoint).CreateClient()
. (Join-Path $PSScriptRoot 'BenchContainers.ps1')
. (Join-Path $PSScriptRoot '../tools/ChildPwsh.ps1')

# One process: the build's median of $Lists cold snapshots (ms), after one to warm the JIT.
$child = @'
param($module, $endpoint, $lists)
Import-Module $module
$none = [Threading.CancellationToken]::None
$engineType = [DyadPorts.PortAllocation].Assembly.GetType('DyadPorts.Core.Engines.ContainerEngine', $true)
$null = $engineType::new($endpoint, 'Docker', $null).Snapshot($none)
$times = for ($i = 0; $i -lt $lists; $i++) {
    $engine = $engineType::new($endpoint, 'Docker', $null)
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $snapshot = $engine.Snapshot($none)
    $sw.Stop()
    if ($snapshot.Containers.Count -lt 1) { throw 'the snapshot is empty' }
    [math]::Round($sw.Elapsed.TotalMilliseconds, 2)
}
"$($times -join ' ')|$($engine.Calls)"
'@
$childFile = Join-Path ([IO.Path]::GetTempPath()) "dyadports-cold-list-$($TestEnv.RunId).ps1"
Set-Content -LiteralPath $childFile -Value $child
. (Join-Path $PSScriptRoot 'Median.ps1')

"# cold list with K=$Containers created containers on docker ($endpoint), $Rounds rounds A B / B A of fresh processes, $Lists timed lists each after one warm-up; $(Get-Date -Format o); load $((Get-Content /proc/loadavg -Raw).Trim())"
"# A (baseline) $BaselineModulePath; B $ModulePath"
try {
    New-BenchContainers $client @(for ($j = 0; $j -lt $Containers; $j++) { @{ Name = "$($TestEnv.Prefix)cold-$j"; Port = $PortBase + $j } })
    $medians = @{ A = @(); B = @() }
    $ratios = @()
    for ($r = 0; $r -lt $Rounds; $r++) {
        $order = if ($r % 2) { 'B', 'A' } else { 'A', 'B' }
        $round = @{}
        foreach ($build in $order) {
            $path = if ($build -eq 'A') { $BaselineModulePath } else { $ModulePath }
            $out = & $ChildPwsh @(Get-ChildPwshArgument '-NoProfile', '-NonInteractive', '-File', $childFile, $path, $endpoint, $Lists)
            if ($LASTEXITCODE -ne 0) { throw "pwsh exited with $LASTEXITCODE for $build`: $out" }
            $times, $calls = "$out".Split('|')
            $m = Get-Median ([double[]]$times.Split(' '))
            $round[$build] = $m
            $medians[$build] += $m
            "round $r $build ms: $times (median $m; calls of the last client $calls)"
        }
        $ratios += $round.B / $round.A
    }
    "A median {0:N2} ms; B median {1:N2} ms; paired B/A median {2:N3}" -f (Get-Median $medians.A), (Get-Median $medians.B), (Get-Median $ratios)
} finally {
    Remove-Item -LiteralPath $childFile -ErrorAction SilentlyContinue
    "# removed $(Remove-BenchContainersOfRun $client) containers of this run; load $((Get-Content /proc/loadavg -Raw).Trim())"
}
