<#
.SYNOPSIS
    The cold one-shot (bench/Measure-OneShot.ps1) with K created, never started, containers on the engine: what the
    configured-ports file (ConfiguredPortsCache, issue 18 item 4) saves a one-shot process on docker, which lists no
    ports for created containers.
.DESCRIPTION
    Makes K containers over the API (8 at a time), labelled with this run's test label, publishing ports
    PortBase..PortBase+PortCount-1 (round robin: created containers bind nothing, so several may name one port),
    outside -PortRange; runs Measure-OneShot.ps1 (paired against -BaselineModulePath when given) with TMPDIR set to a
    private folder, so the state and the engine-ports file of the run live there; prints that folder's engine-ports
    files; then removes the containers (this run's label only) and the folder. Every line goes to the pipeline.
.EXAMPLE
    dotnet pwsh -NoProfile -File bench/Measure-OneShotCreated.ps1 -ModulePath ./out/DyadPorts -BaselineModulePath /tmp/before/out/DyadPorts -Containers 240
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [string] $BaselineModulePath,
    [ValidateSet('Docker', 'Podman')] [string] $Engine = 'Docker',
    [int] $Containers = 240,
    [int] $Pairs = 11,
    [int] $PortBase = 22400,
    [int] $PortCount = 500,
    [string] $PortRange = '22300-22309'
)
$ErrorActionPreference = 'Stop'
$env:DYADPORTS_TEST_RUN = [guid]::NewGuid().ToString('N')   # this run's label: only its containers are removed
. (Join-Path $PSScriptRoot '../tools/TestEnv.ps1')
if (-not $TestEnv.Image) { throw "No test image: run 'sudo bash tools/setup-engines.sh' first." }
Add-Type -Path (Join-Path $ModulePath 'deps/Docker.DotNet.dll')
$endpoint = if ($Engine -eq 'Docker') { $TestEnv.Docker } else { $TestEnv.Podman }
$client = [Docker.DotNet.DockerClientConfiguration]::new([uri]$endpoint).CreateClient()
$folder = New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "dyadports-oneshot-created-$($TestEnv.RunId)")
$savedTmp = $env:TMPDIR

. (Join-Path $PSScriptRoot 'BenchContainers.ps1')

try {
    $sw = [Diagnostics.Stopwatch]::StartNew()
    # Round robin: created containers bind nothing, so several may name one port.
    New-BenchContainers $client @(for ($j = 0; $j -lt $Containers; $j++) { @{ Name = "$($TestEnv.Prefix)oneshot-$j"; Port = $PortBase + ($j % $PortCount) } })
    $all = $client.Containers.ListContainersAsync([Docker.DotNet.Models.ContainersListParameters]@{ All = $true }).GetAwaiter().GetResult()
    "# $Engine at ${endpoint}: created $Containers containers (ports $PortBase-$($PortBase + $PortCount - 1), round robin) in $([math]::Round($sw.Elapsed.TotalSeconds, 1)) s; the engine now has $($all.Count) container(s), $(@($all | Where-Object State -ne 'running').Count) not running"
    "# TMPDIR (state and engine-ports file of the run): $($folder.FullName)"
    $env:TMPDIR = $folder.FullName
    & (Join-Path $PSScriptRoot 'Measure-OneShot.ps1') -ModulePath $ModulePath -BaselineModulePath $BaselineModulePath -Engine $Engine -EngineEndpoint $endpoint -Containers $Containers -Pairs $Pairs -PortRange $PortRange
    foreach ($f in Get-ChildItem $folder.FullName -Filter 'engine-ports-*.txt') { "# $($f.Name): $(@(Get-Content $f.FullName).Count) lines, $($f.Length) bytes, first line '$(Get-Content $f.FullName -TotalCount 1)'" }
}
finally {
    $env:TMPDIR = $savedTmp
    "# removed $(Remove-BenchContainersOfRun $client) container(s) of run $($TestEnv.RunId)"
    Remove-Item $folder.FullName -Recurse -Force -ErrorAction SilentlyContinue
    $client.Dispose()
}
