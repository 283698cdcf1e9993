<#
.SYNOPSIS
    Where a warm feed-off Request-DyadPort's time goes beyond one list, on docker with K created containers (issue 18:
    the feed-off / list ratio of bench section 7).
.DESCRIPTION
    Creates K containers of this run (bench/BenchContainers.ps1), warms both clients up, then interleaves, -Runs times:
    the bench's floor list (Docker.DotNet loaded in the default context, IL), the same list through the module's own
    Docker.DotNet (its load context, deps/linux-x64 ReadyToRun), ContainerEngine.Snapshot (the module's list and the
    snapshot made of it), a feed-off Request-DyadPort, and Test-DyadPortAvailable -Engine Process (a cmdlet call with
    no engine). Then, with the session's engine view live, interleaves a feed-on Request-DyadPort, the snapshot, a
    snapshot and a feed-on request timed as one (a feed-off request's work, done by hand), and a
    feed-off Request-DyadPort, counting gen-0 collections around each request: the feed-off request's work past its
    list against a whole feed-on request, side by side. Prints the medians. Removes its containers by this run's label.
.EXAMPLE
    dotnet pwsh -NoProfile -File bench/Measure-FeedOffParts.ps1 -K 60 -Runs 60
#>
param([int] $K = 60, [int] $Warm = 300, [int] $Runs = 40)
. (Join-Path $PSScriptRoot 'DockerFloor.ps1')
$null = Test-DyadPortAvailable 28690 -Engine Docker -EngineEndpoint $ep
$asm = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'Docker.DotNet' -and [Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name -eq 'DyadPorts' }
"# feed-off parts, $(Get-Date -Format o); docker $ep; K=$K; warm-up $Warm calls per client; $Runs interleaved runs; commit $(git rev-parse --short HEAD); load $((Get-Content /proc/loadavg -Raw).Trim())"
"# the module's Docker.DotNet: $($asm.Location)"
$cfgType = $asm.GetType('Docker.DotNet.DockerClientConfiguration')
$cfg = $cfgType.GetConstructors()[1].Invoke(@([uri]$ep, $null, [TimeSpan]::FromSeconds(100), [TimeSpan]::FromSeconds(100), $null))
$mod = $cfg.CreateClient()
$mlp = [Activator]::CreateInstance($asm.GetType('Docker.DotNet.Models.ContainersListParameters')); $mlp.All = $true
function Ms([scriptblock] $b) { $sw = [Diagnostics.Stopwatch]::StartNew(); & $b | Out-Null; $sw.Elapsed.TotalMilliseconds }
function Med($a) { $s = $a | Sort-Object; $s[[int][math]::Floor($s.Count/2)] }
$state = Enter-BenchState parts
try {
  New-BenchContainers $floor @(for ($j = 0; $j -lt $K; $j++) { @{ Name = "$($TestEnv.Prefix)cg-$(26000+$j)"; Port = 26000 + $j } })
  for ($i = 0; $i -lt $Warm; $i++) { $null = $floor.Containers.ListContainersAsync($lp).GetAwaiter().GetResult(); $null = $mod.Containers.ListContainersAsync($mlp, [Threading.CancellationToken]::None).GetAwaiter().GetResult() }
  $env:DYAD_PORTS_ENGINE_FEED = 'off'
  $sess = [DyadPorts.Infrastructure.ModuleSession]::Current
  $ours = $sess.Engine($sess.Resolve('Docker', $ep))
  for ($i = 0; $i -lt 100; $i++) { $null = $ours.Snapshot([Threading.CancellationToken]::None); $null = Request-DyadPort "$($TestEnv.Prefix)cgw" -Engine Docker -EngineEndpoint $ep -PortRange 25300-25399 }
  $c = @(); $d = @(); $e = @(); $f = @(); $g = @()
  for ($r = 0; $r -lt $Runs; $r++) {
    $c += Ms { $floor.Containers.ListContainersAsync($lp).GetAwaiter().GetResult() }
    $g += Ms { $mod.Containers.ListContainersAsync($mlp, [Threading.CancellationToken]::None).GetAwaiter().GetResult() }
    $d += Ms { $ours.Snapshot([Threading.CancellationToken]::None) }
    $e += Ms { Request-DyadPort "$($TestEnv.Prefix)cgw" -Engine Docker -EngineEndpoint $ep -PortRange 25300-25399 }
    $f += Ms { Test-DyadPortAvailable 25300 -Engine Process }
  }
  $env:DYAD_PORTS_ENGINE_FEED = 'on'
  for ($i = 0; $i -lt 5; $i++) { $null = Request-DyadPort "$($TestEnv.Prefix)cgw" -Engine Docker -EngineEndpoint $ep -PortRange 25300-25399 }
  $dl = [DateTime]::UtcNow.AddSeconds(30); while (-not $sess.Views.IsLive($ep) -and [DateTime]::UtcNow -lt $dl) { Start-Sleep -Milliseconds 100 }
  $pair = @(); $h = @(); $on = @(); $off2 = @(); $g0off = 0; $g0on = 0
  for ($r = 0; $r -lt $Runs; $r++) {
    $env:DYAD_PORTS_ENGINE_FEED = 'on'
    $x = [GC]::CollectionCount(0); $on += Ms { Request-DyadPort "$($TestEnv.Prefix)cgw" -Engine Docker -EngineEndpoint $ep -PortRange 25300-25399 }; $g0on += [GC]::CollectionCount(0) - $x
    $env:DYAD_PORTS_ENGINE_FEED = 'off'
    $h += Ms { $ours.Snapshot([Threading.CancellationToken]::None) }
    $env:DYAD_PORTS_ENGINE_FEED = 'on'
    $pair += Ms { $null = $ours.Snapshot([Threading.CancellationToken]::None); $null = Request-DyadPort "$($TestEnv.Prefix)cgw" -Engine Docker -EngineEndpoint $ep -PortRange 25300-25399 }
    $env:DYAD_PORTS_ENGINE_FEED = 'off'
    $x = [GC]::CollectionCount(0); $off2 += Ms { Request-DyadPort "$($TestEnv.Prefix)cgw" -Engine Docker -EngineEndpoint $ep -PortRange 25300-25399 }; $g0off += [GC]::CollectionCount(0) - $x
  }
  "a snapshot and then a feed-on request, timed as one: {0:N2} ms (the feed-off request's work, done by hand)" -f (Med $pair)
  "view live {5}: feed on {0:N2} ms ({3} gen0 GCs in all); Snapshot {1:N2}; feed off {2:N2} ms ({4} gen0 GCs in all)" -f (Med $on), (Med $h), (Med $off2), $g0on, $g0off, $sess.Views.IsLive($ep)
  "floor list {0:N2}; module's raw list {4:N2}; ContainerEngine.Snapshot (list + snapshot) {1:N2}; Request-DyadPort feed off {2:N2}; Test-DyadPortAvailable -Engine Process {3:N2}" -f (Med $c), (Med $d), (Med $e), (Med $f), (Med $g)
  Remove-DyadPortAllocation "$($TestEnv.Prefix)cgw"
} finally {
  $env:DYAD_PORTS_ENGINE_FEED = $null
  Exit-BenchState $state
  "# removed $(Remove-BenchContainersOfRun $floor) containers of this run"
}
