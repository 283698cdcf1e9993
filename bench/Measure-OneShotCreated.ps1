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

function Remove-RunContainers {
    $filter = [System.Collections.Generic.Dictionary[string, System.Collections.Generic.IDictionary[string, bool]]]::new()
    $filter['label'] = [System.Collections.Generic.Dictionary[string, bool]]::new()
    $filter['label']["$($TestEnv.RunLabel)=$($TestEnv.RunId)"] = $true
    $ids = @($client.Containers.ListContainersAsync([Docker.DotNet.Models.ContainersListParameters]@{ All = $true; Filters = $filter }).GetAwaiter().GetResult() | ForEach-Object ID)
    for ($i = 0; $i -lt $ids.Count; $i += 8) {
        $tasks = foreach ($id in $ids[$i..([math]::Min($i + 8, $ids.Count) - 1)]) { $client.Containers.RemoveContainerAsync($id, [Docker.DotNet.Models.ContainerRemoveParameters]@{ Force = $true }) }
        [System.Threading.Tasks.Task]::WaitAll([System.Threading.Tasks.Task[]]@($tasks))
    }
    $ids.Count
}

try {
    $sw = [Diagnostics.Stopwatch]::StartNew()
    for ($i = 0; $i -lt $Containers; $i += 8) {
        $tasks = foreach ($j in $i..([math]::Min($i + 8, $Containers) - 1)) {
            $port = $PortBase + ($j % $PortCount)
            $key = "$port/tcp"
            $p = [Docker.DotNet.Models.CreateContainerParameters]::new()
            $p.Name = "$($TestEnv.Prefix)oneshot-$j"
            $p.Image = $TestEnv.Image
            $p.Cmd = [System.Collections.Generic.List[string]]@('httpd', '-f', '-p', "$port", '-h', '/www')
            $p.Labels = [System.Collections.Generic.Dictionary[string, string]]::new()
            $p.Labels[$TestEnv.RunLabel] = $TestEnv.RunId
            $p.ExposedPorts = [System.Collections.Generic.Dictionary[string, Docker.DotNet.Models.EmptyStruct]]::new()
            $p.ExposedPorts[$key] = [Docker.DotNet.Models.EmptyStruct]::new()
            $p.HostConfig = [Docker.DotNet.Models.HostConfig]::new()
            $p.HostConfig.PortBindings = [System.Collections.Generic.Dictionary[string, System.Collections.Generic.IList[Docker.DotNet.Models.PortBinding]]]::new()
            $p.HostConfig.PortBindings[$key] = [System.Collections.Generic.List[Docker.DotNet.Models.PortBinding]]@([Docker.DotNet.Models.PortBinding]@{ HostPort = "$port" })
            $client.Containers.CreateContainerAsync($p)
        }
        [System.Threading.Tasks.Task]::WaitAll([System.Threading.Tasks.Task[]]@($tasks))
    }
    $all = $client.Containers.ListContainersAsync([Docker.DotNet.Models.ContainersListParameters]@{ All = $true }).GetAwaiter().GetResult()
    "# $Engine at ${endpoint}: created $Containers containers (ports $PortBase-$($PortBase + $PortCount - 1), round robin) in $([math]::Round($sw.Elapsed.TotalSeconds, 1)) s; the engine now has $($all.Count) container(s), $(@($all | Where-Object State -ne 'running').Count) not running"
    "# TMPDIR (state and engine-ports file of the run): $($folder.FullName)"
    $env:TMPDIR = $folder.FullName
    & (Join-Path $PSScriptRoot 'Measure-OneShot.ps1') -ModulePath $ModulePath -BaselineModulePath $BaselineModulePath -Engine $Engine -EngineEndpoint $endpoint -Containers $Containers -Pairs $Pairs -PortRange $PortRange
    foreach ($f in Get-ChildItem $folder.FullName -Filter 'engine-ports-*.txt') { "# $($f.Name): $(@(Get-Content $f.FullName).Count) lines, $($f.Length) bytes, first line '$(Get-Content $f.FullName -TotalCount 1)'" }
}
finally {
    $env:TMPDIR = $savedTmp
    "# removed $(Remove-RunContainers) container(s) of run $($TestEnv.RunId)"
    Remove-Item $folder.FullName -Recurse -Force -ErrorAction SilentlyContinue
    $client.Dispose()
}
