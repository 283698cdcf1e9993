<#
.SYNOPSIS
    Runs the Pester suite against the built module and writes the counts as JSON for build.ps1.
#>
param(
    [Parameter(Mandatory)] [string] $PesterPath,
    [Parameter(Mandatory)] [string] $ResultPath
)
$ErrorActionPreference = 'Stop'
Import-Module $PesterPath -Force
# Every engine test runs with the engine feed on (the default: this session's views follow the engines' events) and
# off (every allocation lists). The first pass runs every file with the default; the second, with
# DYAD_PORTS_ENGINE_FEED=off, the files whose tests use an engine from this session (not the packaging and setup
# files, the child-process and private-engine files whose own processes never start a feed, nor EngineFeed itself).
$FeedOff = 'Allocation', 'AutoEngine', 'Copy', 'Fleet', 'History', 'Preview', 'RunspaceEngines', 'Views'
$passes = @(
    @{ Name = 'feed on (default)'; Feed = $null; Path = @($PSScriptRoot) }
    @{ Name = 'feed off'; Feed = 'off'; Path = @($FeedOff | ForEach-Object { Join-Path $PSScriptRoot "$_.Tests.ps1" }) }
)
$counts = [pscustomobject]@{ Passed = 0; Failed = 0; Skipped = 0; FailedNames = [System.Collections.Generic.List[string]]::new() }
foreach ($pass in $passes) {
    Write-Host "=== Pester, engine feed $($pass.Name)"
    $env:DYAD_PORTS_ENGINE_FEED = $pass.Feed
    $config = New-PesterConfiguration
    $config.Run.Path = $pass.Path
    $config.Run.PassThru = $true
    $config.Output.Verbosity = 'Detailed'
    $config.Should.ErrorAction = 'Continue'
    $result = Invoke-Pester -Configuration $config
    $counts.Passed += $result.PassedCount
    $counts.Failed += $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
    $counts.Skipped += $result.SkippedCount
    # The failures by name (and their first line), for build.ps1 to repeat at the end of the run, where CI's tail shows them.
    foreach ($failed in @($result.Failed) + @($result.FailedBlocks) + @($result.FailedContainers)) {
        if (-not $failed) { continue }
        # A test has ExpandedPath; a block only Path (its names from the file down); a container only Name or Item.
        $name = if ($failed.PSObject.Properties['ExpandedPath'] -and $failed.ExpandedPath) { $failed.ExpandedPath }
            elseif ($failed.PSObject.Properties['Path'] -and $failed.Path) { $failed.Path -join '.' }
            elseif ($failed.Name) { $failed.Name } else { "$($failed.Item)" }
        $message = @($failed.ErrorRecord | ForEach-Object { "$_" } | Where-Object { $_ }) | Select-Object -First 1
        $line = if ($message) { ($message -split "`n")[0] } else { '' }
        $counts.FailedNames.Add("[$($pass.Name)] $name :: $line")
    }
}
$env:DYAD_PORTS_ENGINE_FEED = $null
$counts | ConvertTo-Json | Set-Content -Path $ResultPath
