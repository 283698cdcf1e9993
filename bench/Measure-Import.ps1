<#
.SYNOPSIS
    Import cost of one or more builds of the module, each in fresh pwsh processes (docs/BENCHMARKS.md, section 2).
.DESCRIPTION
    For every run, interleaved so that machine noise hits every variant alike (the order reversed every other round),
    starts a fresh pwsh for:
      baseline - 'pwsh -NoProfile -c 0'
      <label>  - 'pwsh -NoProfile -c Import-Module <path>' for each -Module label=path
    and records the process wall time and, inside the child, Import-Module's own wall time and the CPU time the
    process spent during it (all threads). CPU time barely moves when other work loads the machine; wall time does.
    Prints one raw line per process, then medians, and for each variant after the first the median of its
    per-run difference to the first one (same round, so the same machine load). One warm-up round is not counted.
.EXAMPLE
    dotnet pwsh -NoProfile -c "./bench/Measure-Import.ps1 -Module before=/tmp/before/DyadPorts,after=./out/DyadPorts -Runs 20"
#>
param(
    [Parameter(Mandatory)] [string[]] $Module,
    [int] $Runs = 10
)
$ErrorActionPreference = 'Stop'
$pwsh = (Get-Process -Id $PID).Path
$prefix = @(if ((Split-Path $pwsh -Leaf) -like 'dotnet*') { 'exec', (Join-Path $PSHOME 'pwsh.dll') })
$variants = [ordered]@{ baseline = $null }
foreach ($m in $Module) { $label, $path = $m -split '=', 2; $variants[$label] = (Resolve-Path $path).Path }

function Invoke-Once([string] $Path) {
    $script = if ($Path) {
        "`$p=[Diagnostics.Process]::GetCurrentProcess(); `$c=`$p.TotalProcessorTime; `$s=[Diagnostics.Stopwatch]::StartNew(); " +
        "Import-Module '$Path'; `$s.Elapsed.TotalMilliseconds; `$p.Refresh(); (`$p.TotalProcessorTime - `$c).TotalMilliseconds"
    } else { '0' }
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $out = @(& $pwsh @prefix -NoProfile -NonInteractive -Command $script)
    if ($LASTEXITCODE -ne 0) { throw "pwsh exited with $LASTEXITCODE for '$Path'" }
    $wall = $sw.Elapsed.TotalMilliseconds
    if (-not $Path) { return [pscustomobject]@{ WallMs = $wall; ImportMs = 0; CpuMs = 0 } }
    [pscustomobject]@{ WallMs = $wall; ImportMs = [double]$out[-2]; CpuMs = [double]$out[-1] }
}
. (Join-Path $PSScriptRoot 'Median.ps1')

Write-Output "# pwsh $($PSVersionTable.PSVersion), $([Environment]::ProcessorCount) cores, $(Get-Date -Format o)"
foreach ($k in $variants.Keys) { Write-Output "# $k = $(if ($variants[$k]) { $variants[$k] } else { 'pwsh -NoProfile -c 0' })" }
foreach ($k in $variants.Keys) { $null = Invoke-Once $variants[$k] }   # warm-up round
$rows = [System.Collections.Generic.List[object]]::new()
foreach ($run in 1..$Runs) {
    # Odd rounds in the listed order, even rounds reversed: no variant always runs first or right after another.
    $order = @($variants.Keys); if ($run % 2 -eq 0) { [array]::Reverse($order) }
    foreach ($k in $order) {
        $r = Invoke-Once $variants[$k]
        Write-Output ("run {0,2} {1,-10} wall {2,8:N1} ms  import {3,7:N1} ms  import cpu {4,7:N1} ms" -f $run, $k, $r.WallMs, $r.ImportMs, $r.CpuMs)
        $rows.Add([pscustomobject]@{ Run = $run; Variant = $k; WallMs = $r.WallMs; ImportMs = $r.ImportMs; CpuMs = $r.CpuMs })
    }
}
$uptime = if (Test-Path /proc/loadavg) { (Get-Content /proc/loadavg -Raw).Trim() } else { 'n/a' }
Write-Output "# load average at the end: $uptime"
$baseline = Get-Median ($rows | Where-Object Variant -eq 'baseline').WallMs
foreach ($k in $variants.Keys) {
    $mine = $rows | Where-Object Variant -eq $k
    Write-Output ("median {0,-10} wall {1,8:N1} ms (+{2,6:N1} over baseline)  Import-Module {3,7:N1} ms  import cpu {4,7:N1} ms" -f
        $k, (Get-Median $mine.WallMs), ((Get-Median $mine.WallMs) - $baseline), (Get-Median $mine.ImportMs), (Get-Median $mine.CpuMs))
}
$labels = @($variants.Keys | Where-Object { $_ -ne 'baseline' })
foreach ($k in $labels | Select-Object -Skip 1) {
    $pairs = foreach ($run in 1..$Runs) {
        $a = $rows | Where-Object { $_.Run -eq $run -and $_.Variant -eq $labels[0] }
        $b = $rows | Where-Object { $_.Run -eq $run -and $_.Variant -eq $k }
        [pscustomobject]@{ Import = $b.ImportMs - $a.ImportMs; Cpu = $b.CpuMs - $a.CpuMs }
    }
    Write-Output ("paired {0} - {1}: median Import-Module {2,7:N1} ms, median import cpu {3,7:N1} ms (per-run differences, same round)" -f
        $k, $labels[0], (Get-Median $pairs.Import), (Get-Median $pairs.Cpu))
}
