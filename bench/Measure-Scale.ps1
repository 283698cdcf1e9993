# Section 7 of bench/Invoke-Bench.ps1, dot-sourced from it (it uses its $session, $TestEnv, $runLabel, $ScaleRuns,
# $OneShotRuns, $AgentOneShotRuns, $ScaleK, Get-Stats, Measure-Ms, New-BenchState, Out-Raw): allocation cost against the number of containers on the host
# (issue 18). K created containers OUTSIDE the allocations' range (ports 26000.., never started, so never bound),
# made over the API and grown 60 -> 240 -> 1000 on each engine. At each K, interleaved:
#   - one bare ListContainers(All=true) call (Docker.DotNet in this process's default context): the floor;
#   - Request-DyadPort with DYAD_PORTS_ENGINE_FEED=off: what a one-shot process pays (no feed);
#   - Request-DyadPort with the feed on, once the session's view of the endpoint is live;
#   - the other design the issue names: one catch-up call GET /events?since=..&until=now;
# with the engine calls of each allocation: the session client's and the view's (ContainerEngine.Calls).
# Then the cold one-shot (Import-Module + one Request-DyadPort in a fresh pwsh) paired A B A B against a bare pwsh
# (bench/Measure-OneShot.ps1), twice: on this pwsh (the dotnet tool, IL only) and on a copy of it compiled ReadyToRun
# the way PowerShell's release packages are (bench/New-ReleasePwsh.ps1, built here into a temp folder and removed after).
# With the DyadPorts agent (Start-DyadPortAgent, in a child pwsh this section starts per engine and stops by its pid)
# following the engine, each K first measures 'agent-request' in pairs of its own (bare, import, agent-request): the
# same one-shot, reading the agent's view instead of listing. Then the listing one-shots (bare, import, request), so that
# no agent pair sits between two of them. A row of the one-shot table puts the two groups side by side; each is paired
# with its own bare pwsh, and the two are not paired with each other. The bench's own session, and every other
# one-shot, run with DYAD_PORTS_AGENT=off.
# Writes an SVG plot of cost against K next to the raw output.
if (-not $ScaleK) { $ScaleK = @(60, 240, 1000) }   # the issue's K; Invoke-Bench -ScaleK only to try this section out
# The plot's axis needs two K; the containers grow from one K to the next; their ports stay in 26000-26999.
if ($ScaleK.Count -lt 2 -or $ScaleK[-1] -gt 1000 -or @(for ($i = 1; $i -lt $ScaleK.Count; $i++) { if ($ScaleK[$i] -le $ScaleK[$i - 1]) { $i } }).Count) {
    throw "scale: -ScaleK takes at least two K, rising, at most 1000 (was $($ScaleK -join ', '))."
}
$ScaleFirst = 25300; $ScaleLast = 25399; $ScaleRange = "$ScaleFirst-$ScaleLast"
$ScaleBasePort = 26000
$scale = [System.Collections.Generic.List[object]]::new()
$scaleOneShot = [System.Collections.Generic.List[object]]::new()

. (Join-Path $PSScriptRoot 'BenchContainers.ps1')

# The two pwsh builds of the one-shot rows: this one, and a release-like copy ('dotnet exec <copy>/pwsh.dll').
$releasePwsh = Join-Path ([IO.Path]::GetTempPath()) "dyadports-bench-pwsh-$($TestEnv.RunId)"
Write-Host "== scale: compiling a release-like (ReadyToRun) copy of this pwsh into $releasePwsh"
try {
    & (Join-Path $PSScriptRoot 'New-ReleasePwsh.ps1') -Destination $releasePwsh | Where-Object { $_ -like '#*' } | Out-Raw
} catch {
    Remove-Item -Recurse -Force $releasePwsh -ErrorAction SilentlyContinue
    throw
}
# The dotnet that runs this pwsh (the runtime crossgen2 compiled the copy against), not whichever one PATH finds first.
$dotnet = if ((Split-Path $ChildPwsh -Leaf) -like 'dotnet*') { $ChildPwsh } else { Join-Path ([Runtime.InteropServices.RuntimeEnvironment]::GetRuntimeDirectory()) '../../../dotnet' }
$oneShotBuilds = @(
    @{ Pwsh = 'tool (IL)'; Run = { param([hashtable] $Parameters) & (Join-Path $PSScriptRoot 'Measure-OneShot.ps1') @Parameters } }
    @{ Pwsh = 'release-like (R2R)'; Run = {
        param([hashtable] $Parameters)
        # A switch goes as -Name or not at all; every other value as -Name and its text.
        $arguments = foreach ($p in $Parameters.GetEnumerator()) {
            if ($p.Value -is [switch] -or $p.Value -is [bool]) { if ($p.Value) { "-$($p.Key)" } } else { "-$($p.Key)"; "$($p.Value)" }
        }
        & $dotnet exec (Join-Path $releasePwsh 'pwsh.dll') -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot 'Measure-OneShot.ps1') @arguments
        if ($LASTEXITCODE -ne 0) { throw "scale: the release-like pwsh's one-shot bench exited $LASTEXITCODE" }
    } }
)

# One variant's median line of bench/Measure-OneShot.ps1's output: its wall time and, past bare, its paired overhead
# over bare, which must be there.
function Get-OneShotMedian([string[]] $Lines, [string] $Variant, [int] $K, [string] $Pwsh) {
    $number = { param($text) [double]($text -replace ',', '') }
    $pattern = "^median K=\S+ $([regex]::Escape($Variant))\s+wall\s+([\d,.]+) ms(?:.*overhead over bare.*wall\s+(-?[\d,.]+) ms\s+cpu\s+(-?[\d,.]+) ms)?"
    $line = @($Lines | Where-Object { $_ -match $pattern })[0]
    if (-not $line -or $line -notmatch $pattern -or ($Variant -ne 'bare' -and -not $Matches[2])) { throw "scale: no $Variant median (with its overhead over bare) in the one-shot output at K=$K ($Pwsh)" }
    @{ Wall = (& $number $Matches[1]); Overhead = $(if ($Matches[2]) { & $number $Matches[2] }); OverheadCpu = $(if ($Matches[3]) { & $number $Matches[3] }) }
}

# K created, never started, containers [From, To): each publishes its own port outside the range.
function New-ScaleContainers($Client, [int] $From, [int] $To) {
    New-BenchContainers $Client @(for ($j = $From; $j -lt $To; $j++) { @{ Name = "$($TestEnv.Prefix)scale-$($ScaleBasePort + $j)"; Port = $ScaleBasePort + $j } })
}

# GET /events?since=<1 s ago>&until=<now>: the stream ends by itself at 'until'.
function Measure-CatchUp($Client) {
    $now = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()
    $parameters = [Docker.DotNet.Models.ContainerEventsParameters]@{ Since = "$($now - 1)"; Until = "$now" }
    $progress = [System.Progress[Docker.DotNet.Models.Message]]::new()
    Measure-Ms { $Client.System.MonitorEventsAsync($parameters, $progress, [System.Threading.CancellationToken]::None).GetAwaiter().GetResult() }
}

# Every engine call one allocation made: the session's client for the endpoint and the endpoint's view.
function Get-EngineCalls($Client, [string] $Endpoint) {
    $view = $session.Views.For($Endpoint)
    $Client.Calls + $(if ($view) { $view.Calls } else { 0 })
}

function Measure-ScaleAllocation([string] $AppId, [hashtable] $Target, $Client, [string] $Feed) {
    $env:DYAD_PORTS_ENGINE_FEED = $Feed
    $before = Get-EngineCalls $Client $Target.EngineEndpoint
    $ms = Measure-Ms { Request-DyadPort $AppId -PortRange $ScaleRange @Target }
    $calls = (Get-EngineCalls $Client $Target.EngineEndpoint) - $before
    Remove-DyadPortAllocation $AppId
    [pscustomobject]@{ Ms = $ms; Calls = $calls }
}

# The agent of one engine, in a child pwsh of the module: its process and socket, once its status says its view answers.
function Start-BenchAgent([string] $Engine, [string] $Endpoint) {
    $folder = Join-Path ([IO.Path]::GetTempPath()) "dyadports-bench-agent-$($TestEnv.RunId.Substring(0, 12))-$Engine"
    New-Item -ItemType Directory -Force $folder | Out-Null
    $socket = Join-Path $folder 'agent.sock'
    $out = Join-Path $folder 'agent.out'
    # A script file (-File): no quoting of a command line to get wrong.
    $script = Join-Path $folder 'agent.ps1'
    "`$ErrorActionPreference = 'Stop'; Import-Module '$ModulePath'; Start-DyadPortAgent -Path '$socket' -Engine $Engine -EngineEndpoint '$Endpoint' | ForEach-Object { 'live=' + `$_.Live }" | Set-Content -Path $script
    $process = Start-Process -FilePath $ChildPwsh -ArgumentList (Get-ChildPwshArgument '-NoProfile', '-NonInteractive', '-File', $script) -PassThru -NoNewWindow -RedirectStandardOutput $out -RedirectStandardError (Join-Path $folder 'agent.err') -WorkingDirectory '/'
    $deadline = [DateTime]::UtcNow.AddSeconds(60)
    while (-not ((Test-Path $out) -and (Select-String -Path $out -Pattern 'live=True' -Quiet)) -and -not $process.HasExited -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
    $agent = @{ Process = $process; Socket = $socket; Folder = $folder }
    if ($process.HasExited -or -not (Select-String -Path $out -Pattern 'live=True' -Quiet)) {
        $said = Get-Content (Join-Path $folder 'agent.err') -Raw -ErrorAction SilentlyContinue
        Stop-BenchAgent $agent
        throw "scale: the agent of $Endpoint did not answer within 60 s: $said"
    }
    $agent
}

# Stops the agent this section started, by its pid, and removes its folder.
function Stop-BenchAgent([hashtable] $Agent) {
    if (-not $Agent) { return }
    if (-not $Agent.Process.HasExited) { Stop-Process -Id $Agent.Process.Id; $null = $Agent.Process.WaitForExit(10000) }
    Remove-Item -Recurse -Force $Agent.Folder -ErrorAction SilentlyContinue
}

# The temp pwsh copy goes whatever ends the measurements.
$savedAgentSetting = $env:DYAD_PORTS_AGENT
$env:DYAD_PORTS_AGENT = 'off'
try {
    foreach ($e in @(@{ Engine = 'Podman'; Endpoint = $TestEnv.Podman }, @{ Engine = 'Docker'; Endpoint = $TestEnv.Docker })) {
        $agent = $null
        $client = [Docker.DotNet.DockerClientConfiguration]::new([uri]$e.Endpoint).CreateClient()
        $listParams = [Docker.DotNet.Models.ContainersListParameters]@{ All = $true }
        $target = @{ Engine = $e.Engine; EngineEndpoint = $e.Endpoint }
        $ours = Get-SessionClient $e.Engine $e.Endpoint
        try {
            $null = Remove-BenchContainersOfRun $client
            $agent = Start-BenchAgent $e.Engine $e.Endpoint
            $have = 0
            foreach ($k in $ScaleK) {
                Write-Host "== scale: $($e.Engine), K=$k created containers outside $ScaleRange"
                New-ScaleContainers $client $have $k
                $have = $k
                New-BenchState
                # Warm-up: feed off once (lists, inspects what it has not seen), then on twice (the second engine call
                # of the session starts the view), then wait for the view to be live.
                $null = Measure-ScaleAllocation "$($TestEnv.Prefix)sw$k-0" $target $ours 'off'
                $null = Measure-ScaleAllocation "$($TestEnv.Prefix)sw$k-1" $target $ours 'on'
                $null = Measure-ScaleAllocation "$($TestEnv.Prefix)sw$k-2" $target $ours 'on'
                $deadline = [DateTime]::UtcNow.AddSeconds(30)
                while (-not $session.Views.IsLive($e.Endpoint) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
                if (-not $session.Views.IsLive($e.Endpoint)) { throw "scale: the engine view of $($e.Endpoint) is not live after 30 s" }
                $null = $client.Containers.ListContainersAsync($listParams).GetAwaiter().GetResult()
                $null = Measure-CatchUp $client

                $floor = [System.Collections.Generic.List[double]]::new(); $catchUp = [System.Collections.Generic.List[double]]::new()
                $off = [System.Collections.Generic.List[object]]::new(); $on = [System.Collections.Generic.List[object]]::new()
                for ($r = 1; $r -le $ScaleRuns; $r++) {
                    $floor.Add((Measure-Ms { $client.Containers.ListContainersAsync($listParams).GetAwaiter().GetResult() }))
                    $off.Add((Measure-ScaleAllocation "$($TestEnv.Prefix)s$k-off-$r" $target $ours 'off'))
                    $on.Add((Measure-ScaleAllocation "$($TestEnv.Prefix)s$k-on-$r" $target $ours 'on'))
                    $catchUp.Add((Measure-CatchUp $client))
                }
                $env:DYAD_PORTS_ENGINE_FEED = $null
                $f = Get-Stats $floor; $so = Get-Stats $off.Ms; $sn = Get-Stats $on.Ms; $cu = Get-Stats $catchUp
                $scale.Add([pscustomobject]@{
                    Engine = $e.Engine; K = $k
                    'List ms' = $f.Median
                    'Feed off ms' = $so.Median; 'Off p95' = $so.P95; 'Off calls' = (@($off.Calls | Sort-Object -Unique) -join '/')
                    'Feed on ms' = $sn.Median; 'On p95' = $sn.P95; 'On calls' = (@($on.Calls | Sort-Object -Unique) -join '/')
                    'Catch-up ms' = $cu.Median
                    'Off / list' = [math]::Round($so.Median / [math]::Max($f.Median, 0.001), 2)
                })
                Remove-BenchState

                # The cold one-shot at this K: a fresh pwsh imports the module and makes one allocation (no feed), paired
                # A B A B against a bare pwsh of the same build (bench/Measure-OneShot.ps1 keeps a state of its own); the
                # two builds take turns at going first. First through the agent (bare, import, agent-request: pairs of their
                # own), then listing (bare, import, request), so that no agent pair sits between two listing one-shots,
                # each of which lists all K containers (at podman K=1000, seconds of the engine's CPU).
                $builds = if ($scaleOneShot.Count % 4) { @($oneShotBuilds[1], $oneShotBuilds[0]) } else { $oneShotBuilds }
                $agentRows = @{}
                foreach ($build in $builds) {
                    $parameters = @{ ModulePath = $ModulePath; Engine = $e.Engine; EngineEndpoint = $e.Endpoint; Containers = $k; Pairs = $AgentOneShotRuns; PortRange = $ScaleRange; AppId = "$($TestEnv.Prefix)oneshot"; AgentSocket = $agent.Socket; AgentOnly = $true }
                    "# one-shot through the agent on the $($build.Pwsh) pwsh" | Out-Raw
                    $lines = @(& $build.Run $parameters)
                    $lines | Out-Raw
                    $agentRows[$build.Pwsh] = @{ Bare = (Get-OneShotMedian $lines 'bare' $k $build.Pwsh); Request = (Get-OneShotMedian $lines 'agent-request' $k $build.Pwsh) }
                }
                foreach ($build in $builds) {
                    $parameters = @{ ModulePath = $ModulePath; Engine = $e.Engine; EngineEndpoint = $e.Endpoint; Containers = $k; Pairs = $OneShotRuns; PortRange = $ScaleRange; AppId = "$($TestEnv.Prefix)oneshot" }
                    "# one-shot listing on the $($build.Pwsh) pwsh" | Out-Raw
                    $lines = @(& $build.Run $parameters)
                    $lines | Out-Raw
                    $bare = Get-OneShotMedian $lines 'bare' $k $build.Pwsh
                    $request = Get-OneShotMedian $lines 'request' $k $build.Pwsh
                    $viaAgent = $agentRows[$build.Pwsh]
                    $scaleOneShot.Add([pscustomobject][ordered]@{
                            Engine = $e.Engine; K = $k; Pwsh = $build.Pwsh; 'Bare pwsh ms' = $bare.Wall; 'Import+Request ms' = $request.Wall
                            'Overhead ms (paired, wall)' = $request.Overhead; 'Overhead ms (paired, CPU)' = $request.OverheadCpu; 'One warm list ms' = $f.Median
                            'Agent: bare pwsh ms' = $viaAgent.Bare.Wall; 'Agent: Import+Request ms' = $viaAgent.Request.Wall
                            'Agent overhead ms (paired, wall)' = $viaAgent.Request.Overhead; 'Agent overhead ms (paired, CPU)' = $viaAgent.Request.OverheadCpu
                        })
                }
            }
        } finally {
            $env:DYAD_PORTS_ENGINE_FEED = $null
            Stop-BenchAgent $agent
            $null = Remove-BenchContainersOfRun $client
            $client.Dispose()
        }
    }
} finally {
    $env:DYAD_PORTS_AGENT = $savedAgentSetting
    Remove-Item -Recurse -Force $releasePwsh -ErrorAction SilentlyContinue
}

# The plot: allocation cost against K (log scale), feed on and off, both engines, as SVG.
function Write-ScalePlot([string] $Path) {
    $w = 640; $h = 400; $left = 60; $right = 170; $top = 30; $bottom = 50
    $maxMs = [math]::Max(1, ($scale | ForEach-Object { [math]::Max($_.'Feed off ms', $_.'Feed on ms') } | Measure-Object -Maximum).Maximum)
    $logMin = [math]::Log10($ScaleK[0]); $logMax = [math]::Log10($ScaleK[-1])
    $x = { param($k) $left + ($w - $left - $right) * ([math]::Log10($k) - $logMin) / ($logMax - $logMin) }
    $y = { param($ms) $h - $bottom - ($h - $top - $bottom) * $ms / $maxMs }
    $inv = [Globalization.CultureInfo]::InvariantCulture
    $svg = [System.Text.StringBuilder]::new()
    $null = $svg.AppendLine("<svg xmlns='http://www.w3.org/2000/svg' width='$w' height='$h' font-family='sans-serif' font-size='12'>")
    $null = $svg.AppendLine("<rect width='$w' height='$h' fill='white'/>")
    $null = $svg.AppendLine("<text x='$left' y='18'>Request-DyadPort, warm median (ms) against K created containers ($stamp)</text>")
    $null = $svg.AppendLine("<line x1='$left' y1='$($h - $bottom)' x2='$($w - $right)' y2='$($h - $bottom)' stroke='black'/><line x1='$left' y1='$top' x2='$left' y2='$($h - $bottom)' stroke='black'/>")
    foreach ($k in $ScaleK) { $px = (& $x $k).ToString('0.0', $inv); $null = $svg.AppendLine("<text x='$px' y='$($h - $bottom + 18)' text-anchor='middle'>K=$k</text>") }
    foreach ($t in 0..4) { $v = $maxMs * $t / 4; $py = (& $y $v).ToString('0.0', $inv); $null = $svg.AppendLine("<text x='$($left - 6)' y='$py' text-anchor='end'>$($v.ToString('0', $inv))</text><line x1='$left' y1='$py' x2='$($w - $right)' y2='$py' stroke='#ddd'/>") }
    $series = @(
        @{ Engine = 'Podman'; Column = 'Feed off ms'; Color = '#b2182b'; Dash = '6,3'; Name = 'podman, feed off' }
        @{ Engine = 'Podman'; Column = 'Feed on ms'; Color = '#b2182b'; Dash = ''; Name = 'podman, feed on' }
        @{ Engine = 'Docker'; Column = 'Feed off ms'; Color = '#2166ac'; Dash = '6,3'; Name = 'docker, feed off' }
        @{ Engine = 'Docker'; Column = 'Feed on ms'; Color = '#2166ac'; Dash = ''; Name = 'docker, feed on' }
    )
    $i = 0
    foreach ($s in $series) {
        $points = ($scale | Where-Object Engine -eq $s.Engine | Sort-Object K | ForEach-Object { "$((& $x $_.K).ToString('0.0', $inv)),$((& $y $_.($s.Column)).ToString('0.0', $inv))" }) -join ' '
        $null = $svg.AppendLine("<polyline points='$points' fill='none' stroke='$($s.Color)' stroke-width='2' stroke-dasharray='$($s.Dash)'/>")
        $ly = $top + 20 * $i++
        $null = $svg.AppendLine("<line x1='$($w - $right + 10)' y1='$ly' x2='$($w - $right + 40)' y2='$ly' stroke='$($s.Color)' stroke-width='2' stroke-dasharray='$($s.Dash)'/><text x='$($w - $right + 45)' y='$($ly + 4)'>$($s.Name)</text>")
    }
    $null = $svg.AppendLine('</svg>')
    Set-Content -Path $Path -Value $svg.ToString()
}
$scalePlot = [IO.Path]::ChangeExtension($raw, '.scale.svg')
Write-ScalePlot $scalePlot
