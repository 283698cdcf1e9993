<#
.SYNOPSIS
    A faithful reimplementation of the seed's allocatePort (port-availability-fix.md), for comparison only.
.DESCRIPTION
    For each candidate port not in the in-memory map, the seed spawns `<engine> ps -a --format "{{.Ports}}"`
    and checks the output with substring matches for "0.0.0.0:PORT" and ":PORT-". It returns the first port
    that passes, and "available" when the CLI fails. This is the method DyadPorts replaces; it is not used by the module.
#>
param(
    [Parameter(Mandatory)] [string[]] $EngineCli,   # e.g. 'podman' or 'docker','-H','unix:///run/docker.sock'
    [int] $BasePort = 32100,
    [int] $MaxPort = 32200
)
$cli = $EngineCli[0]; $cliArgs = @($EngineCli | Select-Object -Skip 1)
$calls = 0
for ($port = $BasePort; $port -le $MaxPort; $port++) {
    $calls++
    $stdout = (& $cli @cliArgs ps -a --format '{{.Ports}}' 2>$null) -join "`n"
    if ($LASTEXITCODE -ne 0) { [pscustomobject]@{ Port = $port; Calls = $calls }; return }   # "Assume available if check fails"
    if (-not ($stdout.Contains("0.0.0.0:$port") -or $stdout.Contains(":$port-"))) {
        [pscustomobject]@{ Port = $port; Calls = $calls }; return
    }
}
throw 'No available ports in range'
