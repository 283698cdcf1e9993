<#
.SYNOPSIS
    DyadPorts benchmarks, side by side in one run (docs/BENCHMARKS.md). Run with: dotnet pwsh ./build.ps1 Bench
.DESCRIPTION
    Engines and image come from the one table (tools/TestEnv.ps1). Every container the bench creates carries
    dyadports.test-run=<run id> and is the only thing it removes; ports 25000-25700 and, for created containers never started, 26000-26999 (never the default range).
    Engine calls per allocation are read from the client's own counter (ContainerEngine.Calls), not written down.
    The raw output, with the machine's description, is written to docs/bench/<UTC time>.txt.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [int[]] $Occupancy = @(0, 30, 60),
    [int] $Runs = 15,
    [int] $SeedRuns = 5,
    [int] $OneShotRuns = 9,
    # Section 7's warm runs, and the agent one-shot's pairs (measured apart from the listing one-shots): issue 18's goals
    # are judged on these medians, and at 15 runs and 9 pairs they moved from one whole run to the next by more than
    # the goals' margins (docs/BENCHMARKS.md).
    [int] $ScaleRuns = 31,
    [int] $AgentOneShotRuns = 15,
    # Only section 7 (cost against the number of containers): for working on it; the documented run is the whole bench.
    [switch] $ScaleOnly,
    # Section 7's K (at least two, rising, at most 1,000): the issue's 60, 240 and 1,000 unless given, to try the section out on a small K.
    [int[]] $ScaleK,
    [string] $RawDirectory = (Join-Path $PSScriptRoot '../docs/bench')
)
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot '../tools/ChildPwsh.ps1')
. (Join-Path $PSScriptRoot '../tools/TestEnv.ps1')
if (-not $TestEnv.Image) { throw "No test image: run 'sudo bash tools/setup-engines.sh' first (build.ps1 Bench does)." }
Import-Module $ModulePath -Force
# The floor: one bare ListContainers call, with the module's Docker.DotNet loaded a second time here, in the default
# context (the module's own copy lives in its load context: src/DyadPorts.Loader).
Add-Type -Path (Join-Path $ModulePath 'deps/Docker.DotNet.dll')
$session = [DyadPorts.Infrastructure.ModuleSession]::Current
$results = [System.Collections.Generic.List[object]]::new()
$autoResults = [System.Collections.Generic.List[object]]::new()
$First = 25000; $Last = 25100; $Range = "$First-$Last"
$runLabel = "$($TestEnv.RunLabel)=$($TestEnv.RunId)"
foreach ($v in 'DOCKER_HOST', 'CONTAINER_HOST', 'CONTAINERIZATION_ENGINE', 'CONTAINERIZATION_ENABLED') { Remove-Item "Env:$v" -ErrorAction SilentlyContinue }
$env:CONTAINERS_CONF = $TestEnv.ContainersConf   # every podman CLI call of the bench, the seed's included

$stamp = [DateTime]::UtcNow.ToString('yyyy-MM-ddTHHmmssZ')
New-Item -ItemType Directory -Force -Path $RawDirectory | Out-Null
$raw = Join-Path (Resolve-Path $RawDirectory) "$stamp.txt"
function Out-Raw { param([Parameter(ValueFromPipeline)] $Line) process { Write-Host $Line; Add-Content -Path $raw -Value $Line } }

. (Join-Path $PSScriptRoot 'Median.ps1')
function Get-Stats([double[]] $ms) {
    $sorted = $ms | Sort-Object
    [pscustomobject]@{ Median = [math]::Round((Get-Median $ms), 2); P95 = [math]::Round($sorted[[int][math]::Ceiling(0.95 * $sorted.Count) - 1], 2); N = $sorted.Count }
}
function Measure-Ms([scriptblock] $Block) { $sw = [Diagnostics.Stopwatch]::StartNew(); & $Block | Out-Null; $sw.Elapsed.TotalMilliseconds }
# Each state in a folder of its own (bench/BenchState.ps1): what the module writes beside a state (its history, its lock
# files, the engine-ports cache of its local folder) goes with it. Remove-BenchState removes one; the end of the run
# removes any left.
. (Join-Path $PSScriptRoot 'BenchState.ps1')
$benchStates = [System.Collections.Generic.List[string]]::new()
function New-BenchState { $benchStates.Add((Enter-BenchState 'bench').Folder) }
function Remove-BenchState([string] $State = $env:DYAD_PORTS_STATE) {
    if ($State -and $benchStates.Contains((Split-Path $State))) { Remove-Item -LiteralPath (Split-Path $State) -Recurse -Force -ErrorAction SilentlyContinue }
}
function Remove-BenchContainers([string] $Engine) {
    $ids = @(Invoke-EngineCli $Engine ps -aq --filter "label=$runLabel")
    if ($ids) { Invoke-EngineCli $Engine rm -f @ids | Out-Null }
}
# The session's own client for a target: its Calls counter is what the cmdlets used.
function Get-SessionClient([string] $Engine, [string] $Endpoint) { $session.Engine($session.Resolve($Engine, $Endpoint)) }
# 8 pwsh processes x 25 Request-DyadPort calls for distinct apps ("<prefix><Tag><worker>-<n>") on the docker engine, against
# whatever state DYAD_PORTS_STATE names; the seconds from the first process started until the last one ended.
function Measure-ParallelRequests([string] $Tag) {
    $script = Join-Path ([IO.Path]::GetTempPath()) "dyadports-bench-child-$Tag-$($TestEnv.RunId).ps1"
    "Import-Module '$ModulePath'; `$w = `$args[0]; 1..25 | ForEach-Object { `$null = Request-DyadPort ""$($TestEnv.Prefix)$Tag`$w-`$_"" -Engine Docker -EngineEndpoint '$($TestEnv.Docker)' -PortRange 25200-25700 }" | Set-Content $script
    try {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $procs = 1..8 | ForEach-Object { Start-Process $ChildPwsh -ArgumentList (Get-ChildPwshArgument '-NoProfile', '-NonInteractive', '-File', $script, $_) -PassThru -NoNewWindow }
        $procs | Wait-Process
        $sw.Elapsed.TotalSeconds
    } finally {
        Remove-Item $script -ErrorAction SilentlyContinue
    }
}
# Times one Request-DyadPort and counts the engine calls it made through the client.
function Measure-Allocation([string] $AppId, [hashtable] $Target, $Client) {
    $before = $Client.Calls
    $ms = Measure-Ms { Request-DyadPort $AppId -PortRange $Range @Target }
    [pscustomobject]@{ Ms = $ms; Calls = $Client.Calls - $before }
}

# The machine, so that anyone can compare their run with this one.
"# DyadPorts bench raw output, $stamp" | Out-Raw
"uname: $(& uname -srvmo)" | Out-Raw
"nproc: $(& nproc)" | Out-Raw
"os: $((Get-Content /etc/os-release | Where-Object { $_ -like 'PRETTY_NAME=*' }) -replace 'PRETTY_NAME=|"', '')" | Out-Raw
"cpu: $((Get-Content /proc/cpuinfo | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -replace '.*:\s*', '')" | Out-Raw
"memory: $((Get-Content /proc/meminfo -TotalCount 1) -replace '\s+', ' ')" | Out-Raw
"load before: $(Get-Content /proc/loadavg)" | Out-Raw
"podman: $(Invoke-EngineCli Podman version --format '{{.Client.Version}}') (service at $($TestEnv.Podman)); runtime: $(& runc --version | Select-Object -First 1)" | Out-Raw
"dockerd: $(Invoke-EngineCli Docker version --format '{{.Server.Version}}') (at $($TestEnv.Docker)); docker CLI $(Invoke-EngineCli Docker version --format '{{.Client.Version}}')" | Out-Raw
"pwsh: $($PSVersionTable.PSVersion); dotnet: $([Environment]::Version); module: $ModulePath; commit: $(& git -C $PSScriptRoot rev-parse --short HEAD 2>$null)" | Out-Raw
"image: $($TestEnv.Image); run: $($TestEnv.RunId); runs: $Runs (seed $SeedRuns); occupancy: $($Occupancy -join ', ')" | Out-Raw

function Out-ScaleSection {
    "### 7. Cost against the number of containers on the host (issue 18): K created containers outside the range, warm Request-DyadPort with the engine feed off and on, $ScaleRuns interleaved runs; engine calls per allocation read from ContainerEngine.Calls of the session's client and the endpoint's view" | Out-Raw
    $scale | Format-Table -Property * -AutoSize | Out-String -Width 400 | Out-Raw
    "### 7b. Cold one-shot (a fresh pwsh: Import-Module + one Request-DyadPort, no feed) paired A B A B against 'pwsh -NoProfile -c 1': listing, $OneShotRuns pairs; through the agent, $AgentOneShotRuns pairs of its own (bare, import, agent-request), never interleaved with a listing one-shot" | Out-Raw
    $scaleOneShot | Format-Table -Property * -AutoSize | Out-String -Width 400 | Out-Raw
    "plot: $(Split-Path $scalePlot -Leaf)" | Out-Raw
}
if ($ScaleOnly) {
    . (Join-Path $PSScriptRoot 'Measure-Scale.ps1')
    '' | Out-Raw
    Out-ScaleSection
    "load after: $(Get-Content /proc/loadavg)" | Out-Raw
    '### JSON' | Out-Raw
    [pscustomobject]@{ Scale = $scale; ScaleOneShot = $scaleOneShot } | ConvertTo-Json -Depth 5 | Out-Raw
    Write-Host "Raw output: $raw"
    return
}

$site = New-Item -ItemType Directory -Force (Join-Path ([IO.Path]::GetTempPath()) "dyadports-bench-site-$($TestEnv.RunId)")
'bench' | Set-Content (Join-Path $site 'index.html')

# Docker is measured with running containers and with created (never started) ones: dockerd lists no ports for
# the latter, so the client inspects each once. Podman lists created containers' ports; it is measured with those.
$modes = @(
    @{ Engine = 'Podman'; Endpoint = $TestEnv.Podman; Cli = @('podman'); Mode = 'created' }
    @{ Engine = 'Docker'; Endpoint = $TestEnv.Docker; Cli = @('docker', '-H', $TestEnv.Docker); Mode = 'running' }
    @{ Engine = 'Docker'; Endpoint = $TestEnv.Docker; Cli = @('docker', '-H', $TestEnv.Docker); Mode = 'created' }
)
# Sections 1 and 2 measure the list path (DYAD_PORTS_ENGINE_FEED=off: one list call per allocation), as every
# version before 0.4.0 allocated; section 7 measures the feed on and off side by side.
$env:DYAD_PORTS_ENGINE_FEED = 'off'
foreach ($e in $modes) {
    $client = [Docker.DotNet.DockerClientConfiguration]::new([uri]$e.Endpoint).CreateClient()
    $listParams = [Docker.DotNet.Models.ContainersListParameters]@{ All = $true }
    $target = @{ Engine = $e.Engine; EngineEndpoint = $e.Endpoint }
    $ours = Get-SessionClient $e.Engine $e.Endpoint

    foreach ($k in $Occupancy) {
        Write-Host "== $($e.Engine), K=$k $($e.Mode) containers publishing ports in $Range"
        Remove-BenchContainers $e.Engine
        for ($i = 0; $i -lt $k; $i++) {
            $port = $First + $i
            $verb = @(if ($e.Mode -eq 'created') { 'create' } else { 'run', '-d' })
            Invoke-EngineCli $e.Engine @verb --label $runLabel --name "$($TestEnv.Prefix)bench-$port" -p "${port}:${port}" $TestEnv.Image httpd -f -p $port -h /www | Out-Null
            if ($LASTEXITCODE -ne 0) { throw "$($e.Engine): could not $verb the bench container on $port" }
        }
        New-BenchState

        # Warm-up: one of each, so clients, JIT and caches are warm as in a long-lived session.
        # Its engine calls are those of the first allocation that sees these K containers (docker: one inspect per created one).
        $firstSeen = Measure-Allocation "$($TestEnv.Prefix)warm$k" $target $ours
        $null = $client.Containers.ListContainersAsync($listParams).GetAwaiter().GetResult()

        $floor = 1..$Runs | ForEach-Object { Measure-Ms { $client.Containers.ListContainersAsync($listParams).GetAwaiter().GetResult() } }
        $allocations = 1..$Runs | ForEach-Object {
            $id = "$($TestEnv.Prefix)b$k-$_"
            Measure-Allocation $id $target $ours
            Remove-DyadPortAllocation $id
        }
        $seedCalls = 0
        $seed = 1..$SeedRuns | ForEach-Object {
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $r = & (Join-Path $PSScriptRoot 'Seed-Allocate.ps1') -EngineCli $e.Cli -BasePort $First -MaxPort $Last
            $seedCalls = $r.Calls
            $sw.Elapsed.TotalMilliseconds
        }
        $calls = @($allocations.Calls | Sort-Object -Unique)
        $f = Get-Stats $floor; $o = Get-Stats $allocations.Ms; $s = Get-Stats $seed
        $results.Add([pscustomobject]@{
            Engine = $e.Engine; Containers = $e.Mode; K = $k
            'Floor ms (1 list)' = $f.Median
            'Ours median ms' = $o.Median; 'Ours p95 ms' = $o.P95; 'Ours engine calls' = $calls -join '/'; 'First-seen calls' = $firstSeen.Calls
            'Seed median ms' = $s.Median; 'Seed p95 ms' = $s.P95; 'Seed CLI calls' = $seedCalls
            'Ours / floor' = [math]::Round($o.Median / [math]::Max($f.Median, 0.001), 2)
            'Seed / ours' = [math]::Round($s.Median / $o.Median, 1)
        })
        Remove-BenchState
    }
    Remove-BenchContainers $e.Engine
    $client.Dispose()
}

# The Auto path: no -Engine, no -EngineEndpoint; the environment or the default sockets decide (K=0).
$autoCases = @(
    @{ Case = 'DOCKER_HOST=docker'; Vars = @{ DOCKER_HOST = $TestEnv.Docker }; Endpoint = $TestEnv.Docker }
    @{ Case = 'CONTAINER_HOST=podman'; Vars = @{ CONTAINER_HOST = $TestEnv.Podman }; Endpoint = $TestEnv.Podman }
    @{ Case = 'default sockets (podman first)'; Vars = @{}; Endpoint = $TestEnv.Podman }
)
foreach ($c in $autoCases) {
    Write-Host "== Auto path: $($c.Case)"
    foreach ($v in $c.Vars.GetEnumerator()) { Set-Item "Env:$($v.Key)" $v.Value }
    try {
        New-BenchState
        Request-DyadPort "$($TestEnv.Prefix)auto-warm" -PortRange $Range | Out-Null
        $client = $session.Engine((Get-CoreType 'DyadPorts.Core.Engines.EngineTarget')::new('Auto', $c.Endpoint, $false, 'bench'))   # the session's client for that endpoint
        $allocations = 1..$Runs | ForEach-Object {
            $id = "$($TestEnv.Prefix)a-$_"
            Measure-Allocation $id @{} $client
            Remove-DyadPortAllocation $id
        }
        $o = Get-Stats $allocations.Ms
        $autoResults.Add([pscustomobject]@{ Case = $c.Case; Endpoint = $c.Endpoint; 'Median ms' = $o.Median; 'p95 ms' = $o.P95; 'Engine calls' = (@($allocations.Calls | Sort-Object -Unique) -join '/') })
        Remove-BenchState
    } finally {
        foreach ($v in $c.Vars.Keys) { Remove-Item "Env:$v" -ErrorAction SilentlyContinue }
    }
}

$env:DYAD_PORTS_ENGINE_FEED = $null

# Start-DyadPreview to first HTTP answer, against `<engine> run` plus the same readiness poll.
$starts = [System.Collections.Generic.List[object]]::new()
foreach ($e in $modes | Where-Object Mode -eq 'created') {
    New-BenchState
    $poll = { param($port) while ($true) { try { $null = Invoke-WebRequest "http://127.0.0.1:$port/" -UseBasicParsing -TimeoutSec 1; break } catch { Start-Sleep -Milliseconds 50 } } }
    $startOurs = [System.Collections.Generic.List[double]]::new(); $startCli = [System.Collections.Generic.List[double]]::new()
    $app = "$($TestEnv.Prefix)sp"; $cliName = "$($TestEnv.Prefix)bench-cli"; $cliPort = $Last + 90
    for ($i = 0; $i -le 5; $i++) {
        $ms = Measure-Ms { $p = Start-DyadPreview $app -Path $site.FullName -Image $TestEnv.Image -Command 'httpd -f -p "$PORT" -h /app' -PortRange $Range -Engine $e.Engine -EngineEndpoint $e.Endpoint -NoWait; & $poll $p.Port }
        Stop-DyadPreview $app -Remove -Engine $e.Engine -EngineEndpoint $e.Endpoint
        $ms2 = Measure-Ms { Invoke-EngineCli $e.Engine run -d --label $runLabel --name $cliName -p "${cliPort}:${cliPort}" -v "$($site.FullName):/app" $TestEnv.Image httpd -f -p $cliPort -h /app | Out-Null; & $poll $cliPort }
        Invoke-EngineCli $e.Engine rm -f $cliName | Out-Null
        if ($i -gt 0) { $startOurs.Add($ms); $startCli.Add($ms2) }   # the first pair is warm-up
    }
    $so = Get-Stats $startOurs; $sc = Get-Stats $startCli
    $starts.Add([pscustomobject]@{ Engine = $e.Engine; 'Ours median ms' = $so.Median; 'Ours p95 ms' = $so.P95; 'CLI median ms' = $sc.Median; 'CLI p95 ms' = $sc.P95; 'Ours / CLI' = [math]::Round($so.Median / $sc.Median, 2) })
}

# Start-DyadPreview -NoWait against the engine's own create + start, both over the API (no CLI process, no HTTP
# poll): what DyadPorts adds to a start, and how often a start takes the state lock (FileLedger.ProcessLockCycles,
# read like ContainerEngine.Calls). The raw client is a bare HttpClient on the unix socket, not Docker.DotNet.
Add-Type -TypeDefinition @'
using System;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;
public static class DyadBenchRawEngine
{
    public static HttpClient For(string socketPath)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri("http://engine/v1.41/") };
    }

    /// <summary>POST /containers/create then /containers/{id}/start: the engine's own work for one preview.</summary>
    public static string CreateAndStart(HttpClient client, string name, string image, int port, string folder, string label)
    {
        var body = "{\"Image\":\"" + image + "\",\"Cmd\":[\"httpd\",\"-f\",\"-p\",\"" + port + "\",\"-h\",\"/app\"],\"Labels\":{\"" + label.Split('=')[0] + "\":\"" + label.Split('=')[1] + "\"}," +
                   "\"ExposedPorts\":{\"" + port + "/tcp\":{}},\"HostConfig\":{\"Binds\":[\"" + folder + ":/app\"],\"PortBindings\":{\"" + port + "/tcp\":[{\"HostPort\":\"" + port + "\"}]}}}";
        var created = client.PostAsync("containers/create?name=" + name, new StringContent(body, Encoding.UTF8, "application/json")).GetAwaiter().GetResult();
        var text = created.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        if (!created.IsSuccessStatusCode) throw new InvalidOperationException("create: " + text);
        var id = text.Split("\"Id\":\"")[1].Split('"')[0];
        var started = client.PostAsync("containers/" + id + "/start", null).GetAwaiter().GetResult();
        if (!started.IsSuccessStatusCode) throw new InvalidOperationException("start: " + started.Content.ReadAsStringAsync().GetAwaiter().GetResult());
        return id;
    }

    public static void Remove(HttpClient client, string id) =>
        client.DeleteAsync("containers/" + id + "?force=true").GetAwaiter().GetResult();
}
'@
$lockType = Get-CoreType 'DyadPorts.Core.Ledger.FileLedger'
$overheads = [System.Collections.Generic.List[object]]::new()
foreach ($e in $modes | Where-Object Mode -eq 'created') {
    New-BenchState
    $rawClient = [DyadBenchRawEngine]::For(($e.Endpoint -replace '^unix://', ''))
    $oursMs = [System.Collections.Generic.List[double]]::new(); $rawMs = [System.Collections.Generic.List[double]]::new(); $cycles = [System.Collections.Generic.List[double]]::new()
    $app = "$($TestEnv.Prefix)ov"; $rawName = "$($TestEnv.Prefix)bench-raw"; $rawPort = $Last + 91
    for ($i = 0; $i -le 7; $i++) {
        $before = $lockType::ProcessLockCycles
        $ms = Measure-Ms { Start-DyadPreview $app -Path $site.FullName -Image $TestEnv.Image -Command 'httpd -f -p "$PORT" -h /app' -PortRange $Range -Engine $e.Engine -EngineEndpoint $e.Endpoint -NoWait }
        $lockCycles = $lockType::ProcessLockCycles - $before
        Stop-DyadPreview $app -Remove -KeepAllocation -Engine $e.Engine -EngineEndpoint $e.Endpoint   # the next start reuses the port it holds
        $id = $null
        $ms2 = Measure-Ms { $script:id = [DyadBenchRawEngine]::CreateAndStart($rawClient, $rawName, $TestEnv.Image, $rawPort, $site.FullName, $runLabel) }
        [DyadBenchRawEngine]::Remove($rawClient, $script:id)
        if ($i -gt 0) { $oursMs.Add($ms); $rawMs.Add($ms2); $cycles.Add($lockCycles) }   # the first pair is warm-up
    }
    Remove-DyadPortAllocation $app -ErrorAction SilentlyContinue
    $rawClient.Dispose()
    $so = Get-Stats $oursMs; $sr = Get-Stats $rawMs
    $overheads.Add([pscustomobject]@{ Engine = $e.Engine; 'Start -NoWait median ms' = $so.Median; 'create+start median ms' = $sr.Median; 'Overhead ms' = [math]::Round($so.Median - $sr.Median, 2); 'Ours / engine' = [math]::Round($so.Median / $sr.Median, 2); 'State-lock cycles per start' = (($cycles | Sort-Object -Unique) -join ',') })
}

# The fleet ledger against the file ledger: Request-DyadPort on the same engine (docker, K=60 created containers
# outside the allocations' ports), interleaved file / etcd, on the shared 3-member cluster tools/setup-etcd.sh runs;
# then 8 processes x 25 allocations on etcd. Everything written goes under /dyadports-bench/<run id>/, deleted after.
$fleet = [System.Collections.Generic.List[object]]::new(); $fleetThroughput = $null
$etcdctl = Join-Path $TestEnv.EtcdBin 'etcdctl'
if (-not (Test-Path $etcdctl)) { throw "No etcdctl at $($etcdctl): run 'sudo bash tools/setup-etcd.sh' first (build.ps1 Bench does)." }
$fleetPrefix = "/dyadports-bench/$($TestEnv.RunId)"
try {
    Remove-BenchContainers Docker
    for ($i = 0; $i -lt 60; $i++) {
        $port = $First + $i
        Invoke-EngineCli Docker create --label $runLabel --name "$($TestEnv.Prefix)fleet-$port" -p "${port}:${port}" $TestEnv.Image httpd -f -p $port -h /www | Out-Null
    }
    $target = @{ Engine = 'Docker'; EngineEndpoint = $TestEnv.Docker }
    $ours = Get-SessionClient Docker $TestEnv.Docker
    New-BenchState; $fileState = $env:DYAD_PORTS_STATE
    $etcdState = "etcd://$($TestEnv.Etcd)$fleetPrefix/k60"
    # With the engine feed off (each allocation lists the engine, as the fleet ledger was first measured) and on (the
    # default: no engine call, so what is left is the ledger's own cost).
    foreach ($feed in 'off', 'on') {
        $env:DYAD_PORTS_ENGINE_FEED = $feed
        $byLedger = @{ File = [System.Collections.Generic.List[double]]::new(); Etcd = [System.Collections.Generic.List[double]]::new() }
        $callsByLedger = @{ File = [System.Collections.Generic.List[long]]::new(); Etcd = [System.Collections.Generic.List[long]]::new() }
        foreach ($warm in 'File', 'Etcd', 'File', 'Etcd') {
            $env:DYAD_PORTS_STATE = if ($warm -eq 'File') { $fileState } else { $etcdState }
            $null = Measure-Allocation "$($TestEnv.Prefix)fw-$warm" $target $ours
        }
        if ($feed -eq 'on') {
            $deadline = [DateTime]::UtcNow.AddSeconds(30)
            while (-not $session.Views.IsLive($TestEnv.Docker) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        }
        for ($r = 1; $r -le $Runs; $r++) {
            foreach ($ledger in 'File', 'Etcd') {
                $env:DYAD_PORTS_STATE = if ($ledger -eq 'File') { $fileState } else { $etcdState }
                $id = "$($TestEnv.Prefix)f$ledger-$feed-$r"
                $view = $session.Views.For($TestEnv.Docker)
                $viewBefore = if ($view) { $view.Calls } else { 0 }
                $m = Measure-Allocation $id $target $ours
                $viewCalls = $(if ($view) { $view.Calls } else { 0 }) - $viewBefore
                $byLedger[$ledger].Add($m.Ms); $callsByLedger[$ledger].Add($m.Calls + $viewCalls)
                Remove-DyadPortAllocation $id
            }
        }
        $fs = Get-Stats $byLedger.File; $es = Get-Stats $byLedger.Etcd
        $fleet.Add([pscustomobject]@{ Engine = 'Docker'; K = 60; Feed = $feed; 'File median ms' = $fs.Median; 'File p95 ms' = $fs.P95; 'Etcd median ms' = $es.Median; 'Etcd p95 ms' = $es.P95
            'Etcd / file' = [math]::Round($es.Median / $fs.Median, 2); 'Etcd - file ms' = [math]::Round($es.Median - $fs.Median, 2); 'Engine calls (file/etcd)' = "$(($callsByLedger.File | Sort-Object -Unique) -join ',')/$(($callsByLedger.Etcd | Sort-Object -Unique) -join ',')" })
    }
    $env:DYAD_PORTS_ENGINE_FEED = $null
    Remove-BenchState $fileState
    Remove-BenchContainers Docker

    # Throughput on etcd: 8 pwsh processes x 25 allocations for distinct apps, one shared etcd state.
    $env:DYAD_PORTS_STATE = "etcd://$($TestEnv.Etcd)$fleetPrefix/throughput"
    $seconds = Measure-ParallelRequests 'e'
    $held = @(Get-DyadPortAllocation -Engine Docker -EngineEndpoint $TestEnv.Docker | Where-Object AppId -like "$($TestEnv.Prefix)e*")
    $fleetThroughput = [pscustomobject]@{ Seconds = [math]::Round($seconds, 2); Allocated = $held.Count; Distinct = @($held.Port | Sort-Object -Unique).Count; PerSecond = [math]::Round($held.Count / $seconds, 1) }
} finally {
    $env:ETCDCTL_API = '3'
    & $etcdctl --endpoints $TestEnv.Etcd del --prefix "$fleetPrefix/" | Out-Null
    Remove-BenchContainers Docker
    $env:DYAD_PORTS_STATE = $null
}

# Cost against the number of containers on the host, feed on and off, and the cold one-shot at each K.
. (Join-Path $PSScriptRoot 'Measure-Scale.ps1')

# Import cost, interleaved to share the noise.
$bare = [System.Collections.Generic.List[double]]::new(); $import = [System.Collections.Generic.List[double]]::new()
for ($i = 0; $i -le 10; $i++) {
    $a = Measure-Ms { & $ChildPwsh @(Get-ChildPwshArgument '-NoProfile', '-NonInteractive', '-Command', '0') }
    $b = Measure-Ms { & $ChildPwsh @(Get-ChildPwshArgument '-NoProfile', '-NonInteractive', '-Command', "Import-Module '$ModulePath'") }
    if ($i -gt 0) { $bare.Add($a); $import.Add($b) }
}
$ba = Get-Stats $bare; $im = Get-Stats $import

# Throughput: 8 processes x 25 allocations for distinct apps (docker).
New-BenchState
$total = Measure-ParallelRequests 't'
$state = Get-Content $env:DYAD_PORTS_STATE -Raw | ConvertFrom-Json -AsHashtable
$allocated = $state.allocations.Count
$distinct = ($state.allocations.Values.port | Sort-Object -Unique).Count
Remove-BenchState
$env:DYAD_PORTS_STATE = $null
foreach ($folder in $benchStates) { Remove-Item -LiteralPath $folder -Recurse -Force -ErrorAction SilentlyContinue }
Remove-Item $site -Recurse -Force -ErrorAction SilentlyContinue

'' | Out-Raw
"### 1. Allocation cost against occupancy, the list path (DYAD_PORTS_ENGINE_FEED=off) (K containers on $First..; medians over $Runs runs, seed over $SeedRuns; engine calls per allocation read from ContainerEngine.Calls)" | Out-Raw
$results | Format-Table -Property * -AutoSize | Out-String -Width 400 | Out-Raw
"### 2. The Auto path (no -Engine/-EngineEndpoint), K=0, $Runs runs, the list path (feed off)" | Out-Raw
$autoResults | Format-Table -AutoSize | Out-String -Width 300 | Out-Raw
"### 3. Start-DyadPreview -NoWait + HTTP poll against '<engine> run -d' + the same poll (5 pairs after a warm-up pair)" | Out-Raw
$starts | Format-Table -AutoSize | Out-String -Width 300 | Out-Raw
"### 3b. Start-DyadPreview -NoWait against the engine's own create + start over the API (7 pairs after a warm-up pair; state-lock cycles per start read from FileLedger.ProcessLockCycles)" | Out-Raw
$overheads | Format-Table -AutoSize | Out-String -Width 300 | Out-Raw
"### 4. Import cost (10 interleaved runs each)" | Out-Raw
("pwsh -c 0: median {0} ms, p95 {1} ms; with Import-Module: median {2} ms, p95 {3} ms; added: {4} ms" -f $ba.Median, $ba.P95, $im.Median, $im.P95, [math]::Round($im.Median - $ba.Median, 1)) | Out-Raw
"### 5. Throughput with contention (8 pwsh processes x 25 allocations, docker)" | Out-Raw
("total {0:0.00} s including process start; {1} allocations, {2} distinct ports; {3:0.0} allocations/s" -f $total, $allocated, $distinct, ($allocated / $total)) | Out-Raw
"### 6. The fleet ledger (etcd, 3 members on loopback) against the file ledger: Request-DyadPort on docker with K=60 created containers, $Runs interleaved runs each, with the engine feed off and on" | Out-Raw
$fleet | Format-Table -AutoSize | Out-String -Width 300 | Out-Raw
("8 pwsh processes x 25 allocations on one etcd state: total {0:0.00} s including process start; {1} allocations, {2} distinct ports; {3} allocations/s" -f $fleetThroughput.Seconds, $fleetThroughput.Allocated, $fleetThroughput.Distinct, $fleetThroughput.PerSecond) | Out-Raw
Out-ScaleSection
"load after: $(Get-Content /proc/loadavg)" | Out-Raw
'### JSON' | Out-Raw
[pscustomobject]@{ Scale = $scale; ScaleOneShot = $scaleOneShot; Allocation = $results; Auto = $autoResults; Start = $starts; StartOverhead = $overheads; Import = @{ Bare = $ba; Import = $im }; Throughput = @{ Seconds = $total; Allocated = $allocated; Distinct = $distinct }; Fleet = $fleet; FleetThroughput = $fleetThroughput } | ConvertTo-Json -Depth 5 | Out-Raw
Write-Host "Raw output: $raw"
