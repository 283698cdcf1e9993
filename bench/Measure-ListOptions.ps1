<#
.SYNOPSIS
    What a one-shot process could ask an engine instead of one whole list (issue 18): the cost of the container list
    with each server-side option that shortens the answer, against K created containers, on one engine.
.DESCRIPTION
    For each K, times (median of -Times, ms, through Docker.DotNet as the module asks: the request, the answer and its
    JSON read into objects), with how many containers each answer held:
      all           the whole list, All = true                        (what a one-shot asks today)
      limit=1,8,64  the N newest (docker and podman: sorted by creation, newest first)
      since=newest  the containers created after the newest one      (none, here)
      id=8          eight containers named by id
      label=none    a label no container has                         (none)
      info          GET /info, whose Containers counts them
      ping          GET /_ping                                       (the round trip's floor)
    Each option is asked once, untimed, before its timed calls (the client's first use of each answer's types). The K
    containers (bench/BenchContainers.ps1: 8 calls at a time) run the test image, are never started, publish host ports
    PortBase.. (outside every range, below Linux's ephemeral range), carry this run's test label, and are removed at the
    end, found by that label only.
.EXAMPLE
    dotnet pwsh -NoProfile -File bench/Measure-ListOptions.ps1 -Engine Podman -Containers 60, 240, 1000
#>
param(
    [Parameter(Mandatory)] [ValidateSet('Docker', 'Podman')] [string] $Engine,
    [int[]] $Containers = @(60, 240, 1000),
    [int] $Times = 7,
    [int] $PortBase = 26000,
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/DyadPorts')
)
$ErrorActionPreference = 'Stop'
$env:DYADPORTS_TEST_RUN = [guid]::NewGuid().ToString('N')   # this run's label: only its containers are removed
. (Join-Path $PSScriptRoot '../tools/TestEnv.ps1')
if (-not $TestEnv.Image) { throw "No test image: run 'sudo bash tools/setup-engines.sh' first." }
Add-Type -Path (Join-Path $ModulePath 'deps/Docker.DotNet.dll')
. (Join-Path $PSScriptRoot 'BenchContainers.ps1')
. (Join-Path $PSScriptRoot 'Median.ps1')
$endpoint = $TestEnv.$Engine
$client = [Docker.DotNet.DockerClientConfiguration]::new([uri]$endpoint).CreateClient()

function New-Filter([string] $Name, [string[]] $Values) {
    $filter = [System.Collections.Generic.Dictionary[string, System.Collections.Generic.IDictionary[string, bool]]]::new()
    $filter[$Name] = [System.Collections.Generic.Dictionary[string, bool]]::new()
    foreach ($v in $Values) { $filter[$Name][$v] = $true }
    $filter
}

function Get-Containers([Docker.DotNet.Models.ContainersListParameters] $Parameters) {
    $Parameters.All = $true
    , $client.Containers.ListContainersAsync($Parameters).GetAwaiter().GetResult()
}

# One option: its median time (ms) and how many containers its answer held.
function Measure-Option([scriptblock] $Ask, [scriptblock] $Count) {
    $answer = & $Ask   # untimed: the client's first use of this answer's types
    $ms = for ($i = 0; $i -lt $Times; $i++) {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $answer = & $Ask
        $sw.Stop()
        $sw.Elapsed.TotalMilliseconds
    }
    [pscustomobject]@{ Ms = [math]::Round((Get-Median $ms), 1); Count = & $Count $answer }
}

$version = $client.System.GetVersionAsync().GetAwaiter().GetResult()
$before = (Get-Containers ([Docker.DotNet.Models.ContainersListParameters]::new())).Count
"# list options, $(Get-Date -AsUTC -Format 'yyyy-MM-ddTHH:mm:ssZ'); $Engine at $endpoint, $($version.Version) ($(@($version.Components)[0].Name)); $([Environment]::ProcessorCount) cores; load $((Get-Content /proc/loadavg -Raw).Trim())"
"# K created containers of this run ($before others on the engine before it); median of $Times, ms, through Docker.DotNet; count = containers in the answer"
try {
    $have = 0
    foreach ($k in $Containers) {
        New-BenchContainers $client @(for ($j = $have; $j -lt $k; $j++) { @{ Name = "$($TestEnv.Prefix)opt-$j"; Port = $PortBase + $j } })
        $have = $k
        $ours = Get-Containers ([Docker.DotNet.Models.ContainersListParameters]@{ Filters = (New-Filter label "$($TestEnv.RunLabel)=$($TestEnv.RunId)") })
        if ($ours.Count -ne $k) { throw "$($ours.Count) containers of this run are listed, not $k" }
        $newest = (Get-Containers ([Docker.DotNet.Models.ContainersListParameters]@{ Limit = 1 }))[0].ID
        $eight = @($ours | Select-Object -First 8 | ForEach-Object ID)
        $listed = { param($a) $a.Count }
        $options = [ordered]@{
            'all'          = { Get-Containers ([Docker.DotNet.Models.ContainersListParameters]::new()) }, $listed
            'limit=1'      = { Get-Containers ([Docker.DotNet.Models.ContainersListParameters]@{ Limit = 1 }) }, $listed
            'limit=8'      = { Get-Containers ([Docker.DotNet.Models.ContainersListParameters]@{ Limit = 8 }) }, $listed
            'limit=64'     = { Get-Containers ([Docker.DotNet.Models.ContainersListParameters]@{ Limit = 64 }) }, $listed
            'since=newest' = { Get-Containers ([Docker.DotNet.Models.ContainersListParameters]@{ Filters = (New-Filter since $newest) }) }, $listed
            'id=8'         = { Get-Containers ([Docker.DotNet.Models.ContainersListParameters]@{ Filters = (New-Filter id $eight) }) }, $listed
            'label=none'   = { Get-Containers ([Docker.DotNet.Models.ContainersListParameters]@{ Filters = (New-Filter label 'dyadports.bench-none=1') }) }, $listed
            'info'         = { $client.System.GetSystemInfoAsync().GetAwaiter().GetResult() }, { param($a) $a.Containers }
            'ping'         = { $client.System.PingAsync().GetAwaiter().GetResult() }, { param($a) '-' }
        }
        '{0,-6} {1,-14} {2,8} {3,6}' -f 'K', 'option', 'ms', 'count'
        foreach ($name in $options.Keys) {
            $ask, $count = $options[$name]
            $m = Measure-Option $ask $count
            '{0,-6} {1,-14} {2,8:0.0} {3,6}' -f $k, $name, $m.Ms, $m.Count
        }
    }
} finally {
    "# removed $(Remove-BenchContainersOfRun $client) container(s) of this run (label $($TestEnv.RunLabel)=$($TestEnv.RunId)); load $((Get-Content /proc/loadavg -Raw).Trim())"
    $client.Dispose()
}
