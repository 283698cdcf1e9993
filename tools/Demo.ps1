<#
.SYNOPSIS
    The main job, end to end: three previews while port 32100 is already taken, each on a port that
    really is free, each answering HTTP. Uses a container engine when one answers, else the process engine.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [ValidateSet('Auto', 'Docker', 'Podman', 'Process')] [string] $Engine = 'Auto'
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath -Force

$work = Join-Path ([IO.Path]::GetTempPath()) ("dyadports-demo-" + [guid]::NewGuid().ToString('N'))
$site = New-Item -ItemType Directory -Path (Join-Path $work 'app')
'<h1>Hello from a DyadPorts preview</h1>' | Set-Content (Join-Path $site 'index.html')
$env:DYAD_PORTS_STATE = Join-Path $work 'state.json'

# Which engine, and what it runs: the project's image (tools/setup-engines.sh builds it; the one table says
# where) in a container engine, else a host process.
. (Join-Path $PSScriptRoot 'TestEnv.ps1')
$candidates = @(
    @{ Engine = 'Podman'; Image = $TestEnv.Image }
    @{ Engine = 'Docker'; Image = $TestEnv.Image }
) | Where-Object { $_.Image -and $Engine -in 'Auto', $_.Engine -and $env:CONTAINERIZATION_ENABLED -notin 'false', '0', 'no' }
$choice = $null
foreach ($c in $candidates) {
    try { $null = Test-DyadPortAvailable 1 -Engine $c.Engine; $choice = $c; break } catch { Write-Host "  ($($c.Engine): $($_.Exception.Message.Split('.')[0]))" }
}
if (-not $choice) {
    $serve = if (Get-Command busybox -ErrorAction SilentlyContinue) { 'exec busybox httpd -f -p "$PORT" -h .' }
             elseif (Get-Command python3 -ErrorAction SilentlyContinue) { 'exec python3 -m http.server "$PORT"' }
             else { throw 'The process engine demo needs busybox or python3 to serve files.' }
    $choice = @{ Engine = 'Process'; Command = $serve }
} else {
    $choice.Command = 'httpd -f -p "$PORT" -h /app'
}

Write-Host "`n== DyadPorts demo: engine $($choice.Engine), state $env:DYAD_PORTS_STATE`n"
$blocker = [System.Net.Sockets.TcpListener]::new([ipaddress]::Any, 32100)
$previews = @()
try {
    try { $blocker.Start(); Write-Host 'Port 32100 is now held by a plain host listener that no engine knows about.' }
    catch { Write-Host 'Port 32100 is already in use on this machine: a fine start for the demo.' }
    Test-DyadPortAvailable 32100, 32101 -Detailed -Engine $choice.Engine | Format-Table | Out-Host

    $start = @{ Path = $site.FullName; Command = $choice.Command; Engine = $choice.Engine }
    if ($choice.ContainsKey('Image')) { $start.Image = $choice.Image }
    # The demo's own state file and AppIds: a user's own previews of apps 56-58 are another state's, never touched.
    $previews = 'demo-56', 'demo-57', 'demo-58' | Start-DyadPreview @start
    $previews | Format-Table | Out-Host

    foreach ($p in $previews) {
        $response = Invoke-WebRequest $p.Url -UseBasicParsing
        Write-Host ("{0,-24} -> HTTP {1}  {2}" -f $p.Url, $response.StatusCode, ($response.Content -replace '<[^>]+>', '').Trim())
    }
    Write-Host ''
    Get-DyadPortAllocation -Engine $choice.Engine | Format-Table | Out-Host
    Write-Host 'Starting app demo-57 again changes nothing (idempotent):'
    Start-DyadPreview demo-57 @start | Format-Table | Out-Host
    Write-Host 'The range at a glance, and what was decided:'
    Get-DyadPortUsage 32100-32139 -Engine $choice.Engine | Out-Host
    Get-DyadPortHistory | Format-Table | Out-Host
}
finally {
    if ($previews) { $previews | Stop-DyadPreview -Remove -Engine $choice.Engine -Confirm:$false }
    $blocker.Stop()
    Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue
    Remove-Item Env:DYAD_PORTS_STATE
}
Write-Host 'Demo done: previews stopped and removed, ports released.'
