<#
.SYNOPSIS
    Where a one-shot 'Import-Module DyadPorts; Request-DyadPort x' spends its time (issue 18 item 4), from inside the child.
.DESCRIPTION
    Starts fresh pwsh processes that, in this order, time: the process start up to the first line of the command,
    Import-Module, the first Request-DyadPort (its output kept), then formatting that output for the host (Out-String).
    Each phase prints its wall time, the methods the JIT compiled in it and the JIT's own time
    (System.Runtime.JitInfo), and the assemblies that were loaded in it, with their load context.
    With -JitByAssembly a second set of processes runs with an in-process EventListener on the runtime's JIT events
    and counts the methods jitted per namespace (slower: read only the counts from those).
    With -JitMethods a last process with the same listener prints every method jitted in each of the import, request
    and format phases, by name (namespace, method, signature), sorted.
    With -Floor each run also starts a fresh pwsh without the module that makes and formats one [pscustomobject] of
    four properties (a table): what PowerShell itself costs any one-shot that shows an object.
    With -Strace the child runs under 'strace -f -e trace=execve' and prints every process it started.
    The engine is Docker on its default socket unless -Engine/-EngineEndpoint say otherwise; the state is in a temp folder of its own (bench/BenchState.ps1),
    removed after.
.EXAMPLE
    dotnet pwsh -NoProfile -File bench/Trace-OneShot.ps1 -ModulePath ./out/DyadPorts -Runs 5
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [string] $Engine = 'Docker',
    [string] $EngineEndpoint,
    [string] $PortRange = '28600-28699',
    [int] $Runs = 5,
    [switch] $JitByAssembly,
    [switch] $JitMethods,
    [switch] $Floor,
    [switch] $Strace
)
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot '../tools/ChildPwsh.ps1')
$ModulePath = (Resolve-Path $ModulePath).Path
# The state in a folder of its own (bench/BenchState.ps1): the module writes its history, its locks and the engine-ports cache beside it.
. (Join-Path $PSScriptRoot 'BenchState.ps1')
$target = "-Engine $Engine" + $(if ($EngineEndpoint) { " -EngineEndpoint '$EngineEndpoint'" } else { '' })

$child = @'
$p = [Diagnostics.Process]::GetCurrentProcess()
$startup = ([DateTime]::Now - $p.StartTime).TotalMilliseconds
$seen = [System.Collections.Generic.HashSet[string]]::new()
function Loaded {
    foreach ($a in [AppDomain]::CurrentDomain.GetAssemblies()) {
        $alc = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($a)
        $name = "$($a.GetName().Name) [$(if ($alc) { $alc.Name } else { '?' })]"
        if ($seen.Add($name)) { $name }
    }
}
$null = Loaded
$phases = [System.Collections.Generic.List[object]]::new()
function Phase([string] $Name, [scriptblock] $Block) {
    $m = [System.Runtime.JitInfo]::GetCompiledMethodCount($false); $t = [System.Runtime.JitInfo]::GetCompilationTime($false)
    $p.Refresh(); $c = $p.TotalProcessorTime
    $sw = [Diagnostics.Stopwatch]::StartNew()
    . $Block
    $ms = $sw.Elapsed.TotalMilliseconds
    $p.Refresh()
    $line = "phase {0,-8} wall {1,7:N1} ms  cpu {2,7:N1} ms  jit {3,5} methods {4,7:N1} ms" -f $Name, $ms, ($p.TotalProcessorTime - $c).TotalMilliseconds,
        ([System.Runtime.JitInfo]::GetCompiledMethodCount($false) - $m), ([System.Runtime.JitInfo]::GetCompilationTime($false) - $t).TotalMilliseconds
    $phases.Add($line)
    $phases.Add("  loaded: " + ((Loaded) -join ', '))
}
"startup  {0,7:N1} ms to the first line (process start time, 10 ms resolution); jit so far {1} methods {2:N1} ms" -f $startup,
    [System.Runtime.JitInfo]::GetCompiledMethodCount($false), [System.Runtime.JitInfo]::GetCompilationTime($false).TotalMilliseconds
__BODY__
$phases
"total jit {0} methods {1:N1} ms; process cpu {2:N1} ms" -f [System.Runtime.JitInfo]::GetCompiledMethodCount($false),
    [System.Runtime.JitInfo]::GetCompilationTime($false).TotalMilliseconds, $p.TotalProcessorTime.TotalMilliseconds
'@
$moduleBody = @'
Phase import { Import-Module '__MODULE__' }
Phase request { $script:r = Request-DyadPort oneshot-trace __TARGET__ -PortRange __RANGE__ }
Phase format { $null = $script:r | Out-String }
Phase second { $script:r = Request-DyadPort oneshot-trace2 __TARGET__ -PortRange __RANGE__ }
'@
# The floor (-Floor): what PowerShell itself costs a fresh process to show one object, with no module: a
# [pscustomobject] of four properties (so PowerShell shows it as a table, as the module's view shows an allocation),
# formatted for the host as the 'format' phase above does.
$floorBody = @'
Phase object { $script:r = [pscustomobject]@{ AppId = 'oneshot-trace'; Port = 32100; Status = 'Active'; Engine = 'Docker' } }
Phase format { $null = $script:r | Out-String }
Phase second { $null = [pscustomobject]@{ AppId = 'oneshot-trace2'; Port = 32101 } | Out-String }
'@
$listener = @'
Add-Type -TypeDefinition @"
using System; using System.Collections.Concurrent; using System.Diagnostics.Tracing;
public sealed class JitCounter : EventListener {
    public static readonly ConcurrentDictionary<string, int> ByNamespace = new ConcurrentDictionary<string, int>();
    public static volatile bool On;
    public static readonly ConcurrentQueue<string> Names = new ConcurrentQueue<string>();
    public static volatile string Phase = "";
    protected override void OnEventSourceCreated(EventSource s) {
        if (s.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(s, EventLevel.Verbose, (EventKeywords)0x10);
    }
    protected override void OnEventWritten(EventWrittenEventArgs e) {
        if (!On || e.EventName != "MethodLoadVerbose_V2" && e.EventName != "MethodLoadVerbose_V1" && e.EventName != "MethodLoadVerbose") return;
        var ns = e.Payload[e.PayloadNames.IndexOf("MethodNamespace")] as string ?? "?";
        var parts = ns.Split('.'); var key = parts.Length > 2 ? parts[0] + "." + parts[1] : ns;
        if (key.StartsWith("DyadPorts", StringComparison.Ordinal)) key = ns.Split('+')[0];
        ByNamespace.AddOrUpdate(key, 1, (k, v) => v + 1);
        Names.Enqueue(Phase + " " + ns + "::" + e.Payload[e.PayloadNames.IndexOf("MethodName")] + " " + e.Payload[e.PayloadNames.IndexOf("MethodSignature")]);
    }
}
"@
$l = [JitCounter]::new(); Start-Sleep -Milliseconds 200
[JitCounter]::Phase = 'import'; [JitCounter]::On = $true
Import-Module '__MODULE__'
[JitCounter]::Phase = 'request'
$r = Request-DyadPort oneshot-trace __TARGET__ -PortRange __RANGE__
[JitCounter]::Phase = 'format'
$null = $r | Out-String
[JitCounter]::On = $false; Start-Sleep -Milliseconds 500
$total = 0; foreach ($v in [JitCounter]::ByNamespace.Values) { $total += $v }
"jitted during import+request+format (events): $total"
[JitCounter]::ByNamespace.GetEnumerator() | Sort-Object Value -Descending | Select-Object -First 40 | ForEach-Object { "  {0,5} {1}" -f $_.Value, $_.Key }
if (__METHODS__) { [JitCounter]::Names.ToArray() | Sort-Object | ForEach-Object { "  $_" } }
'@
function Expand([string] $text) { $text.Replace('__BODY__', $moduleBody).Replace('__MODULE__', $ModulePath).Replace('__TARGET__', $target).Replace('__RANGE__', $PortRange) }

try {
    $benchState = Enter-BenchState 'trace'
    "# $(Get-Date -Format o); pwsh $($PSVersionTable.PSVersion); dotnet $([Environment]::Version); $([Environment]::ProcessorCount) cores; load $((Get-Content /proc/loadavg -Raw).Trim())"
    "# module $ModulePath; $target -PortRange $PortRange; state $env:DYAD_PORTS_STATE"
    "# DOTNET_TieredPGO=$env:DOTNET_TieredPGO DOTNET_TieredCompilation=$env:DOTNET_TieredCompilation DOTNET_ReadyToRun=$env:DOTNET_ReadyToRun"
    foreach ($run in 1..$Runs) {
        "## run $run"
        $args = Get-ChildPwshArgument '-NoProfile', '-NonInteractive', '-Command', (Expand $child)
        if ($Strace) {
            $log = Join-Path ([IO.Path]::GetTempPath()) "dyadports-strace-$PID-$run.txt"
            & strace -f -qq -o $log -e trace=execve $ChildPwsh @args
            "  processes started (execve):"
            Get-Content $log | Where-Object { $_ -match 'execve\(' -and $_ -notmatch 'ENOENT' } | ForEach-Object { "    $_" }
            Remove-Item $log
        }
        else { & $ChildPwsh @args }
        if ($Floor) {
            "## run $run, floor (no module)"
            & $ChildPwsh @(Get-ChildPwshArgument '-NoProfile', '-NonInteractive', '-Command', $child.Replace('__BODY__', $floorBody))
        }
    }
    if ($JitByAssembly -or $JitMethods) {
        "## JIT by namespace (EventListener on; timings of these runs not comparable)"
        $body = (Expand $listener).Replace('__METHODS__', $(if ($JitMethods) { '$true' } else { '$false' }))
        & $ChildPwsh @(Get-ChildPwshArgument '-NoProfile', '-NonInteractive', '-Command', $body)
    }
}
finally {
    if ($benchState) { Exit-BenchState $benchState }
}
