<#
.SYNOPSIS
    What the "one catch-up call per allocation" design of issue 18 would cost: /events?since=<1 s ago>&until=<now>
    (type=container) through Docker.DotNet, against one ListContainers(All=true) call, on both engines, in one run.
    Writes docs/bench/events-catchup-<UTC time>.txt. Run: dotnet pwsh ./bench/Measure-EventsCatchUp.ps1 [-Runs 20]
.DESCRIPTION
    The engines and the client library come from the one table (tools/TestEnv.ps1) and the NuGet cache. It creates
    and removes nothing. The engines' event history is whatever the machine's other users left (podman 4.3 reads its
    events file, up to 1 MB, from the start for every since=; dockerd keeps the last 256 events in memory).
#>
param([int] $Runs = 20, [string] $RawDirectory = (Join-Path $PSScriptRoot '../docs/bench'))
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot '../tools/TestEnv.ps1')
Add-Type -Path (Join-Path $HOME '.nuget/packages/docker.dotnet/3.125.15/lib/netstandard2.1/Docker.DotNet.dll')
$raw = Join-Path (Resolve-Path $RawDirectory) ("events-catchup-{0}.txt" -f [DateTime]::UtcNow.ToString('yyyy-MM-ddTHHmmssZ'))
function Out-Raw { param([Parameter(ValueFromPipeline)] $Line) process { Write-Host $Line; Add-Content -Path $raw -Value $Line } }
. (Join-Path $PSScriptRoot 'Median.ps1')

"# events catch-up call vs one list call; $Runs runs each; $(hostname); $([Environment]::ProcessorCount) cores; $(Get-Date -AsUTC -Format o)" | Out-Raw
"engine`tK(all containers)`tlist_median_ms`tcatchup_median_ms`tcatchup_max_ms" | Out-Raw
foreach ($engine in @(@{ Name = 'docker'; Endpoint = $TestEnv.Docker }, @{ Name = 'podman'; Endpoint = $TestEnv.Podman })) {
    $client = [Docker.DotNet.DockerClientConfiguration]::new([Uri]$engine.Endpoint).CreateClient()
    try {
        $listAll = [Docker.DotNet.Models.ContainersListParameters]@{ All = $true }
        $k = $client.Containers.ListContainersAsync($listAll).GetAwaiter().GetResult().Count
        $list = foreach ($i in 1..$Runs) {
            $w = [Diagnostics.Stopwatch]::StartNew(); $null = $client.Containers.ListContainersAsync($listAll).GetAwaiter().GetResult(); $w.Elapsed.TotalMilliseconds
        }
        $catchup = foreach ($i in 1..$Runs) {
            $now = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()
            $p = [Docker.DotNet.Models.ContainerEventsParameters]@{ Since = [string]($now - 1); Until = [string]$now }
            $p.Filters = [Collections.Generic.Dictionary[string, Collections.Generic.IDictionary[string, bool]]]::new()
            $byType = [Collections.Generic.Dictionary[string, bool]]::new(); $byType['container'] = $true
            $p.Filters['type'] = $byType
            $counter = [Progress[Docker.DotNet.Models.Message]]::new()
            $w = [Diagnostics.Stopwatch]::StartNew()
            $null = $client.System.MonitorEventsAsync($p, $counter, [Threading.CancellationToken]::None).GetAwaiter().GetResult()
            $w.Elapsed.TotalMilliseconds
        }
        "{0}`t{1}`t{2:N2}`t{3:N2}`t{4:N2}" -f $engine.Name, $k, (Get-Median $list), (Get-Median $catchup), ($catchup | Measure-Object -Maximum).Maximum | Out-Raw
    }
    finally { $client.Dispose() }
}
"raw: $raw" | Write-Host
