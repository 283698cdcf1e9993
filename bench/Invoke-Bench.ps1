<#
.SYNOPSIS
    DyadPorts benchmarks, side by side in one run (docs/BENCHMARKS.md). Run with: dotnet pwsh ./build.ps1 Bench
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [int[]] $Occupancy = @(0, 30, 60),
    [int] $Runs = 15,
    [int] $SeedRuns = 5
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath -Force
Add-Type -Path (Join-Path $ModulePath 'Docker.DotNet.dll')   # the floor: one bare ListContainers call
$results = [System.Collections.Generic.List[object]]::new()
$pwsh = (Get-Process -Id $PID).Path
$pwshPrefix = @(if ((Split-Path $pwsh -Leaf) -like 'dotnet*') { 'exec', (Join-Path $PSHOME 'pwsh.dll') })

function Get-Stats([double[]] $ms) {
    $sorted = $ms | Sort-Object
    $median = if ($sorted.Count % 2) { $sorted[[int][math]::Floor($sorted.Count / 2)] } else { ($sorted[$sorted.Count / 2 - 1] + $sorted[$sorted.Count / 2]) / 2 }
    [pscustomobject]@{ Median = [math]::Round($median, 2); P95 = [math]::Round($sorted[[int][math]::Ceiling(0.95 * $sorted.Count) - 1], 2); N = $sorted.Count }
}
function Measure-Ms([scriptblock] $Block) { $sw = [Diagnostics.Stopwatch]::StartNew(); & $Block | Out-Null; $sw.Elapsed.TotalMilliseconds }

$engines = @(
    @{ Engine = 'Podman'; Endpoint = 'unix:///run/podman/podman.sock'; Cli = @('podman'); Image = 'localhost/busybox:local' }
    @{ Engine = 'Docker'; Endpoint = 'unix:///run/docker.sock'; Cli = @('docker', '-H', 'unix:///run/docker.sock'); Image = 'busybox:local' }
)
$site = New-Item -ItemType Directory -Force (Join-Path ([IO.Path]::GetTempPath()) 'dyadports-bench-site')
'bench' | Set-Content (Join-Path $site 'index.html')

foreach ($e in $engines) {
    $cli = $e.Cli[0]; $cliArgs = @($e.Cli | Select-Object -Skip 1)
    function Invoke-Cli { & $cli @cliArgs @args }
    $client = [Docker.DotNet.DockerClientConfiguration]::new([uri]$e.Endpoint).CreateClient()
    $listParams = [Docker.DotNet.Models.ContainersListParameters]@{ All = $true }

    foreach ($k in $Occupancy) {
        Write-Host "== $($e.Engine), K=$k containers publishing ports in the range"
        Invoke-Cli ps -aq --filter label=dyadports.bench | ForEach-Object { Invoke-Cli rm -f $_ } | Out-Null
        for ($i = 0; $i -lt $k; $i++) {
            $port = 32100 + $i
            $verb = if ($e.Engine -eq 'Podman') { 'create' } else { 'run' }
            $runArgs = @($verb) + @(if ($verb -eq 'run') { '-d' }) + @('--label', 'dyadports.bench=1', '--name', "bench-$port", '-p', "${port}:${port}", $e.Image, 'httpd', '-f', '-p', "$port")
            Invoke-Cli @runArgs | Out-Null
        }
        $env:DYAD_PORTS_STATE = Join-Path ([IO.Path]::GetTempPath()) "dyadports-bench-$([guid]::NewGuid().ToString('N')).json"

        # Warm-up: one of each, so clients, JIT and caches are warm as in a long-lived session.
        Request-DyadPort warm -Engine $e.Engine -EngineEndpoint $e.Endpoint | Out-Null
        $null = $client.Containers.ListContainersAsync($listParams).GetAwaiter().GetResult()

        $floor = 1..$Runs | ForEach-Object { Measure-Ms { $client.Containers.ListContainersAsync($listParams).GetAwaiter().GetResult() } }
        $ours = 1..$Runs | ForEach-Object {
            $id = "b$k-$_"
            $ms = Measure-Ms { Request-DyadPort $id -Engine $e.Engine -EngineEndpoint $e.Endpoint }
            Remove-DyadPortAllocation $id
            $ms
        }
        $seedCalls = 0
        $seed = 1..$SeedRuns | ForEach-Object {
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $r = & (Join-Path $PSScriptRoot 'Seed-Allocate.ps1') -EngineCli $e.Cli
            $seedCalls = $r.Calls
            $sw.Elapsed.TotalMilliseconds
        }
        $f = Get-Stats $floor; $o = Get-Stats $ours; $s = Get-Stats $seed
        $results.Add([pscustomobject]@{
            Engine = $e.Engine; K = $k
            'Floor ms (1 list)' = $f.Median
            'Ours median ms' = $o.Median; 'Ours p95 ms' = $o.P95; 'Ours engine calls' = 1
            'Seed median ms' = $s.Median; 'Seed p95 ms' = $s.P95; 'Seed CLI calls' = $seedCalls
            'Ours / floor' = [math]::Round($o.Median / [math]::Max($f.Median, 0.001), 2)
            'Seed / ours' = [math]::Round($s.Median / $o.Median, 1)
        })
        Remove-Item $env:DYAD_PORTS_STATE -ErrorAction SilentlyContinue
    }
    Invoke-Cli ps -aq --filter label=dyadports.bench | ForEach-Object { Invoke-Cli rm -f $_ } | Out-Null

    # Start-DyadPreview to first HTTP answer, against `<engine> run` plus the same readiness poll.
    $env:DYAD_PORTS_STATE = Join-Path ([IO.Path]::GetTempPath()) "dyadports-bench-$([guid]::NewGuid().ToString('N')).json"
    $poll = { param($port) while ($true) { try { $null = Invoke-WebRequest "http://127.0.0.1:$port/" -UseBasicParsing -TimeoutSec 1; break } catch { Start-Sleep -Milliseconds 50 } } }
    $startOurs = [System.Collections.Generic.List[double]]::new(); $startCli = [System.Collections.Generic.List[double]]::new()
    for ($i = 0; $i -le 5; $i++) {
        $ms = Measure-Ms { $p = Start-DyadPreview sp -Path $site.FullName -Image $e.Image -Command 'httpd -f -p "$PORT" -h /app' -Engine $e.Engine -EngineEndpoint $e.Endpoint -NoWait; & $poll $p.Port }
        Stop-DyadPreview sp -Remove -Engine $e.Engine -EngineEndpoint $e.Endpoint
        $ms2 = Measure-Ms { Invoke-Cli run -d --name bench-cli -p 32190:32190 -v "$($site.FullName):/app" $e.Image httpd -f -p 32190 -h /app | Out-Null; & $poll 32190 }
        Invoke-Cli rm -f bench-cli | Out-Null
        if ($i -gt 0) { $startOurs.Add($ms); $startCli.Add($ms2) }   # the first pair is warm-up
    }
    $so = Get-Stats $startOurs; $sc = Get-Stats $startCli
    $results.Add([pscustomobject]@{ Engine = $e.Engine; K = 'start'; 'Ours median ms' = $so.Median; 'Ours p95 ms' = $so.P95; 'Seed median ms' = $sc.Median; 'Seed p95 ms' = $sc.P95; 'Seed / ours' = [math]::Round($sc.Median / $so.Median, 2) })
    $client.Dispose()
}

# Import cost, interleaved to share the noise.
$bare = [System.Collections.Generic.List[double]]::new(); $import = [System.Collections.Generic.List[double]]::new()
for ($i = 0; $i -le 10; $i++) {
    $a = Measure-Ms { & $pwsh @pwshPrefix -NoProfile -NonInteractive -Command '0' }
    $b = Measure-Ms { & $pwsh @pwshPrefix -NoProfile -NonInteractive -Command "Import-Module '$ModulePath'" }
    if ($i -gt 0) { $bare.Add($a); $import.Add($b) }
}
$ba = Get-Stats $bare; $im = Get-Stats $import

# Throughput: 8 processes x 25 allocations for distinct apps.
$env:DYAD_PORTS_STATE = Join-Path ([IO.Path]::GetTempPath()) "dyadports-bench-$([guid]::NewGuid().ToString('N')).json"
$script = Join-Path ([IO.Path]::GetTempPath()) 'dyadports-bench-child.ps1'
"Import-Module '$ModulePath'; `$w = `$args[0]; 1..25 | ForEach-Object { `$null = Request-DyadPort ""t`$w-`$_"" -Engine Docker -EngineEndpoint unix:///run/docker.sock -PortRange 34000-34500 }" | Set-Content $script
$sw = [Diagnostics.Stopwatch]::StartNew()
$procs = 1..8 | ForEach-Object { Start-Process $pwsh -ArgumentList (@($pwshPrefix) + @('-NoProfile', '-NonInteractive', '-File', $script, $_)) -PassThru -NoNewWindow }
$procs | Wait-Process
$total = $sw.Elapsed.TotalSeconds
$state = Get-Content $env:DYAD_PORTS_STATE -Raw | ConvertFrom-Json -AsHashtable
$allocated = $state.allocations.Count
$distinct = ($state.allocations.Values.port | Sort-Object -Unique).Count

Write-Host "`n### Allocation cost and preview start (medians over $Runs runs, seed over $SeedRuns)"
$results | Format-Table -AutoSize | Out-Host
Write-Host "### Import cost (10 interleaved runs each)"
Write-Host ("pwsh -c 0: median {0} ms, p95 {1} ms; with Import-Module: median {2} ms, p95 {3} ms; added: {4} ms" -f $ba.Median, $ba.P95, $im.Median, $im.P95, [math]::Round($im.Median - $ba.Median, 1))
Write-Host "### Throughput with contention (8 pwsh processes x 25 allocations, docker)"
Write-Host ("total {0:0.00} s including process start; {1} allocations, {2} distinct ports; {3:0.0} allocations/s" -f $total, $allocated, $distinct, ($allocated / $total))
$results | ConvertTo-Json | Set-Content (Join-Path ([IO.Path]::GetTempPath()) 'dyadports-bench.json')
