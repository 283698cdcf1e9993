<#
.SYNOPSIS
    The one-shot cost (issue 18 items 4 and 6): a fresh 'pwsh -c "Import-Module DyadPorts; Request-DyadPort x"' against
    a bare 'pwsh -c 1', paired.
.DESCRIPTION
    Each round starts one fresh pwsh (-NoProfile -NonInteractive) per variant, in order A B C … in odd rounds and reversed
    in even ones, so that no variant always runs first or right after another and machine noise hits all of a round alike:
      bare            - '1'
      import          - 'Import-Module <ModulePath>'
      request         - 'Import-Module <ModulePath>; Request-DyadPort <AppId> -Engine <Engine> … -PortRange <range>'
                        (its output formatted for the host, as a script's one-shot call does)
      before-import/before-request - the same with -BaselineModulePath, when given (another build, e.g. before a change)
    With -Floor two more variants, to tell PowerShell's own cost of showing an object from the module's:
      bare-object     - '[pscustomobject]@{ AppId = …; Port = …; Status = …; Engine = … }' (no module; shown as a table,
                        as the module's view shows an allocation)
      request-port    - 'Import-Module <ModulePath>; (Request-DyadPort …).Port' (a script that takes the port: an int shown)
    and two for the floor of any binary module, with bench/FloorModule (built here into a temp folder: one cmdlet with
    Request-DyadPort's parameters and ShouldProcess that does no work, and the same table view; no dependencies):
      floor-import    - 'Import-Module <FloorModule>'
      floor-request   - 'Import-Module <FloorModule>; Request-FloorPort …' (its object shown as a table)
    With -AgentSocket, one more variant, for a host where the DyadPorts agent runs (Start-DyadPortAgent, started by the
    caller at that socket):
      agent-request   - the same as request, with DYAD_PORTS_AGENT set to that socket: the one-shot reads the agent's view
                        instead of listing the engine's containers (before-agent-request too, with -BaselineModulePath)
    Every other variant runs with DYAD_PORTS_AGENT=off, so that no agent at the per-user default socket answers them.
    With -AgentOnly (and -AgentSocket), the variants are bare, import and agent-request only: the agent one-shot is then
    measured apart from the listing one, whose minute of listing a thousand containers would sit between its pairs and
    load the engine and the machine they run on.
    With -InProcess, per build one more variant, 'first-request' ('before-first-request'): the same as request, with
    its output discarded, and the child times the first Request-DyadPort itself (a Stopwatch after the import); the
    median of those times and of their paired differences between the builds are printed too. Inside the process the
    noise of process start and exit is left out, so a change of 20-30 ms shows that the wall times above cannot.
    One warm-up round is not counted. The state is in a temp folder of its own (bench/BenchState.ps1), removed after; the app keeps its port from
    the warm-up on, so every counted request is the common one-shot case: an app asking again for its port.
    Prints one raw line per process, then per variant the median wall time and the median of its per-round difference
    to bare (the overhead), then the paired differences between the builds. -Containers is only a label for the
    output: the caller creates the K containers on the engine (bench/Invoke-Bench.ps1).
    Every line is written to the pipeline, nothing to the host: a caller keeps them as raw output.
    Wall time is what the goal is stated in; on a machine loaded by other work it swings by seconds, so the CPU time
    of each child (user + system, from this process's cutime/cstime) is printed beside it: it moves much less.
.EXAMPLE
    dotnet pwsh -NoProfile -File bench/Measure-OneShot.ps1 -ModulePath ./out/DyadPorts -Engine Docker -Containers 0 -Pairs 11
.EXAMPLE
    # From bench/Invoke-Bench.ps1, after creating K containers on the engine:
    & (Join-Path $PSScriptRoot 'Measure-OneShot.ps1') -ModulePath $ModulePath -Engine Docker -EngineEndpoint $TestEnv.Docker -Containers $k | Out-Raw
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [ValidateSet('Auto', 'Docker', 'Podman')] [string] $Engine = 'Docker',
    [string] $EngineEndpoint,
    [int] $Containers = 0,
    [int] $Pairs = 11,
    [string] $BaselineModulePath,
    [string] $PortRange = '28600-28699',
    [string] $AppId = 'oneshot-bench',
    [switch] $Floor,
    [switch] $InProcess,
    [string] $AgentSocket,
    [switch] $AgentOnly
)
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot '../tools/ChildPwsh.ps1')

# CPU time (user + system) of this process's waited-for children so far, from /proc/self/stat (cutime, cstime), in ms.
$script:Hz = 100
function Get-ChildCpuMs {
    $f = (Get-Content "/proc/$PID/stat" -Raw).Split(')')[1].Trim().Split(' ')
    ([double]$f[13] + [double]$f[14]) * 1000 / $script:Hz
}
. (Join-Path $PSScriptRoot 'Median.ps1')

if ($AgentOnly) {
    if (-not $AgentSocket) { throw '-AgentOnly measures the agent one-shot: give -AgentSocket.' }
    if ($InProcess -or $Floor) { throw '-InProcess and -Floor compare with the listing request: not with -AgentOnly.' }
}
$target = "-Engine $Engine" + $(if ($EngineEndpoint) { " -EngineEndpoint '$EngineEndpoint'" } else { '' })
$variants = [ordered]@{ bare = '1' }
$builds = [ordered]@{ '' = (Resolve-Path $ModulePath).Path }
if ($BaselineModulePath) { $builds['before-'] = (Resolve-Path $BaselineModulePath).Path }
foreach ($b in $builds.Keys) {
    $variants["${b}import"] = "Import-Module '$($builds[$b])'"
    if (-not $AgentOnly) { $variants["${b}request"] = "Import-Module '$($builds[$b])'; Request-DyadPort $AppId $target -PortRange $PortRange" }
    if ($InProcess) {
        $variants["${b}first-request"] = "Import-Module '$($builds[$b])'; `$sw = [Diagnostics.Stopwatch]::StartNew(); `$null = Request-DyadPort $AppId $target -PortRange $PortRange; 'first-request-ms ' + `$sw.Elapsed.TotalMilliseconds.ToString([cultureinfo]::InvariantCulture)"
    }
}
if ($AgentSocket) {
    foreach ($b in $builds.Keys) {
        $variants["${b}agent-request"] = "`$env:DYAD_PORTS_AGENT = '$AgentSocket'; Import-Module '$($builds[$b])'; Request-DyadPort $AppId $target -PortRange $PortRange"
    }
}
$floorModule = $null
if ($Floor) {
    $floorModule = Join-Path ([IO.Path]::GetTempPath()) "dyadports-floor-$([guid]::NewGuid().ToString('N'))"
    $floorSource = Join-Path $PSScriptRoot 'FloorModule'
    & dotnet build (Join-Path $floorSource 'FloorModule.csproj') -c Release -o $floorModule -nologo -v q -clp:NoSummary | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "bench/FloorModule did not build (dotnet build exited with $LASTEXITCODE)" }
    Copy-Item (Join-Path $floorSource 'FloorModule.psd1'), (Join-Path $floorSource 'FloorModule.Format.ps1xml') $floorModule
    $variants['floor-import'] = "Import-Module '$floorModule/FloorModule.psd1'"
    $variants['floor-request'] = "Import-Module '$floorModule/FloorModule.psd1'; Request-FloorPort $AppId $target -PortRange $PortRange"
    $variants['bare-object'] = "[pscustomobject]@{ AppId = '$AppId'; Port = 32100; Status = 'Active'; Engine = 'Docker' }"
    $variants['request-port'] = "Import-Module '$($builds[''])'; (Request-DyadPort $AppId $target -PortRange $PortRange).Port"
}

# The state in a folder of its own (bench/BenchState.ps1): the module writes its history, its locks and the engine-ports cache beside it.
. (Join-Path $PSScriptRoot 'BenchState.ps1')
$savedAgent = $env:DYAD_PORTS_AGENT
$benchState = Enter-BenchState 'oneshot'
$env:DYAD_PORTS_AGENT = 'off'
try {
    "# one-shot bench, $(Get-Date -Format o); K=$Containers containers (label); $target -PortRange $PortRange; pairs $Pairs"
    "# pwsh $($PSVersionTable.PSVersion); dotnet $([Environment]::Version); $([Environment]::ProcessorCount) cores; child: $ChildPwsh $($ChildPwshPrefix -join ' ')"
    # Each build's own commit: the work tree its module folder lies in (with -dirty for uncommitted changes there).
    foreach ($b in $builds.Keys) { "# module ${b}: $($builds[$b]); commit $(& git -C $builds[$b] describe --always --dirty --abbrev=7 2>$null)" }
    "# load before: $((Get-Content /proc/loadavg -Raw).Trim())"
    $rows = [System.Collections.Generic.List[object]]::new()
    foreach ($round in 0..$Pairs) {
        $order = @($variants.Keys); if ($round % 2 -eq 0) { [array]::Reverse($order) }
        foreach ($k in $order) {
            $cpu = Get-ChildCpuMs
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $out = @(& $ChildPwsh @(Get-ChildPwshArgument '-NoProfile', '-NonInteractive', '-Command', $variants[$k]) 2>&1)
            $ms = $sw.Elapsed.TotalMilliseconds
            $cpu = (Get-ChildCpuMs) - $cpu
            if ($LASTEXITCODE -ne 0) { throw "pwsh exited with $LASTEXITCODE for $k`: $($out -join "`n")" }
            if ($round -eq 0) { continue }   # warm-up
            $inside = @($out | Where-Object { "$_" -match '^first-request-ms ([\d.]+)$' } | ForEach-Object { [double]::Parse($Matches[1], [cultureinfo]::InvariantCulture) })
            if ($k -like '*first-request' -and $inside.Count -ne 1) { throw "the child of $k printed no first-request time: $($out -join "`n")" }
            $line = "round {0,2} {1,-15} wall {2,8:N1} ms  cpu {3,8:N1} ms" -f $round, $k, $ms, $cpu
            if ($inside) { $line += "  first request in the process {0,7:N1} ms" -f $inside[0] }
            $line
            $rows.Add([pscustomobject]@{ Round = $round; Variant = $k; Ms = $ms; Cpu = $cpu; Inside = $(if ($inside) { $inside[0] } else { $null }) })
        }
    }
    "# load after: $((Get-Content /proc/loadavg -Raw).Trim())"
    function Get-PairedMedian([string] $A, [string] $B, [string] $Property = 'Ms') {
        Get-Median @(foreach ($r in 1..$Pairs) {
                ($rows | Where-Object { $_.Round -eq $r -and $_.Variant -eq $A }).$Property - ($rows | Where-Object { $_.Round -eq $r -and $_.Variant -eq $B }).$Property
            })
    }
    foreach ($k in $variants.Keys) {
        $mine = $rows | Where-Object Variant -eq $k
        $line = "median K={0} {1,-15} wall {2,8:N1} ms  cpu {3,8:N1} ms" -f $Containers, $k, (Get-Median $mine.Ms), (Get-Median $mine.Cpu)
        if ($k -ne 'bare') { $line += "  overhead over bare (median of paired differences): wall {0,7:N1} ms  cpu {1,7:N1} ms" -f (Get-PairedMedian $k 'bare'), (Get-PairedMedian $k 'bare' Cpu) }
        $line
    }
    if ($Floor) {
        "paired K={0} request - floor-request (the module's cost over a binary module that does no work): median wall {1,7:N1} ms  cpu {2,7:N1} ms" -f $Containers, (Get-PairedMedian 'request' 'floor-request'), (Get-PairedMedian 'request' 'floor-request' Cpu)
        "paired K={0} import - floor-import: median wall {1,7:N1} ms  cpu {2,7:N1} ms" -f $Containers, (Get-PairedMedian 'import' 'floor-import'), (Get-PairedMedian 'import' 'floor-import' Cpu)
        "paired K={0} request - bare-object (the module's cost over PowerShell showing one object): median wall {1,7:N1} ms  cpu {2,7:N1} ms" -f $Containers, (Get-PairedMedian 'request' 'bare-object'), (Get-PairedMedian 'request' 'bare-object' Cpu)
    }
    if ($InProcess) {
        foreach ($b in $builds.Keys) {
            "median K={0} {1}first-request in the process {2,7:N1} ms" -f $Containers, $b, (Get-Median ($rows | Where-Object Variant -eq "${b}first-request").Inside)
        }
    }
    if ($BaselineModulePath) {
        foreach ($k in @('import') + @(if (-not $AgentOnly) { 'request' }) + @(if ($AgentSocket) { 'agent-request' })) {
            "paired K={0} {1} - before-{1}: median wall {2,7:N1} ms  cpu {3,7:N1} ms" -f $Containers, $k, (Get-PairedMedian $k "before-$k"), (Get-PairedMedian $k "before-$k" Cpu)
        }
        if ($InProcess) {
            "paired K={0} first-request - before-first-request, timed in the process: median {1,7:N1} ms" -f $Containers, (Get-PairedMedian 'first-request' 'before-first-request' Inside)
        }
    }
}
finally {
    $env:DYAD_PORTS_AGENT = $savedAgent
    Exit-BenchState $benchState
    if ($floorModule) { Remove-Item -LiteralPath $floorModule -Recurse -Force -ErrorAction SilentlyContinue }
}
