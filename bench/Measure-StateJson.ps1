<#
.SYNOPSIS
    What the state's JSON costs a fresh process the first time (issue 18 item 4): the first read and write of a small
    state and one history line, timed inside fresh pwsh processes, for this build and a baseline build, alternating.
.DESCRIPTION
    Each child imports the module, then calls the core's own warm-up methods (StateStore.Warm: a state of one record
    written and read back through the file format; Journal.Warm: one history line written) by reflection, timing the
    first call, then both again (already compiled), with the methods the JIT compiled meanwhile (System.Runtime.JitInfo)
    and whether Newtonsoft.Json was loaded by the end. Run it on the release-like pwsh (bench/New-ReleasePwsh.ps1) to
    see what a user's pwsh pays; on the tool pwsh everything PowerShell runs is compiled first as well.
.EXAMPLE
    dotnet exec /tmp/pwsh-release/pwsh.dll -NoProfile -File bench/Measure-StateJson.ps1 -ModulePath ./out/DyadPorts -BaselineModulePath /tmp/wt-base/out/DyadPorts -Runs 9
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $BaselineModulePath,
    [int] $Runs = 9
)
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot '../tools/ChildPwsh.ps1')
. (Join-Path $PSScriptRoot 'Median.ps1')

$child = @'
Import-Module '__MODULE__'
$alc = [System.Runtime.Loader.AssemblyLoadContext]::All | Where-Object Name -eq 'DyadPorts'
$core = $alc.Assemblies | Where-Object { $_.GetName().Name -eq 'DyadPorts.Core' }
$flags = [Reflection.BindingFlags]'NonPublic,Public,Static'
$state = $core.GetType('DyadPorts.Core.State.StateStore', $true).GetMethod('Warm', $flags)
$journal = $core.GetType('DyadPorts.Core.State.Journal', $true).GetMethod('Warm', $flags)
$null = $state.Name; $null = $journal.Name
$m = [System.Runtime.JitInfo]::GetCompiledMethodCount($false); $t = [System.Runtime.JitInfo]::GetCompilationTime($false)
$sw = [Diagnostics.Stopwatch]::StartNew()
$null = $state.Invoke($null, @()); $null = $journal.Invoke($null, @())
$first = $sw.Elapsed.TotalMilliseconds
$sw.Restart(); $null = $state.Invoke($null, @()); $null = $journal.Invoke($null, @()); $again = $sw.Elapsed.TotalMilliseconds
$newtonsoft = [bool]($alc.Assemblies | Where-Object { $_.GetName().Name -eq 'Newtonsoft.Json' })
'first {0:F1} again {1:F2} jit {2} jitms {3:F1} newtonsoft {4}' -f $first, $again, ([System.Runtime.JitInfo]::GetCompiledMethodCount($false) - $m),
    ([System.Runtime.JitInfo]::GetCompilationTime($false) - $t).TotalMilliseconds, $newtonsoft
'@
$builds = [ordered]@{ this = (Resolve-Path $ModulePath).Path; baseline = (Resolve-Path $BaselineModulePath).Path }
"# state JSON first use, $(Get-Date -Format o); pwsh $($PSVersionTable.PSVersion); dotnet $([Environment]::Version); $([Environment]::ProcessorCount) cores; child: $ChildPwsh $($script:ChildPwshPrefix -join ' ')"
foreach ($b in $builds.Keys) { "# $b : $($builds[$b])" }
"# load before: $((Get-Content /proc/loadavg -Raw).Trim())"
$rows = foreach ($run in 1..$Runs) {
    $order = if ($run % 2) { 'this', 'baseline' } else { 'baseline', 'this' }
    foreach ($b in $order) {
        $out = @(& $ChildPwsh @(Get-ChildPwshArgument '-NoProfile', '-NonInteractive', '-Command', $child.Replace('__MODULE__', $builds[$b])) 2>&1)
        $line = "$out"
        if ($line -notmatch '^first ([\d.]+) again ([\d.]+) jit (\d+) jitms ([\d.]+) newtonsoft (\w+)$') { throw "the child for $b printed: $line" }
        "run {0,2} {1,-8} {2}" -f $run, $b, $line | Out-Host
        [pscustomobject]@{ Build = $b; First = [double]$Matches[1]; Again = [double]$Matches[2]; Jit = [int]$Matches[3]; JitMs = [double]$Matches[4]; Newtonsoft = $Matches[5] }
    }
}
"# load after: $((Get-Content /proc/loadavg -Raw).Trim())"
foreach ($b in $builds.Keys) {
    $r = @($rows | Where-Object Build -eq $b)
    "median {0,-8} first {1,6:N1} ms  again {2,5:N2} ms  jit {3,4} methods {4,5:N1} ms  Newtonsoft.Json loaded: {5}" -f $b, (Get-Median $r.First), (Get-Median $r.Again),
        (Get-Median $r.Jit), (Get-Median $r.JitMs), (($r.Newtonsoft | Sort-Object -Unique) -join '/')
}
$this = @($rows | Where-Object Build -eq 'this'); $base = @($rows | Where-Object Build -eq 'baseline')
"paired median baseline - this, first use: {0:N1} ms" -f (Get-Median @(0..($Runs - 1) | ForEach-Object { $base[$_].First - $this[$_].First }))
