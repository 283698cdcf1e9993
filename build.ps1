#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds, tests, demonstrates and benchmarks DyadPorts.
.DESCRIPTION
    Tasks:
      Build  - compiles and lays out an importable module in out/DyadPorts
      Test   - Build, start the real engines (root on Debian), run xunit then Pester; the last line is
               'N passed, N failed, N skipped' (with CI=true a skipped test counts as failed)
      Demo   - Build, then three previews with 32100 already taken: allocation with fallback, URLs that answer HTTP
      Bench  - Build, then the benchmarks of docs/BENCHMARKS.md
      Clean  - removes out/ and the bin/obj folders
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 Demo
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Test', 'Demo', 'Bench', 'Clean')]
    [string[]] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$Root = $PSScriptRoot
$Out = Join-Path $Root 'out'
$ModuleOut = Join-Path $Out 'DyadPorts'

# What PowerShell itself ships and the module must never carry.
$NeverShip = @('System.Management.Automation.dll', 'Microsoft.PowerShell.*.dll', 'Microsoft.Management.Infrastructure*.dll')

function Invoke-Native {
    param([string] $FilePath, [string[]] $ArgumentList)
    & $FilePath @ArgumentList
    if ($LASTEXITCODE -ne 0) { throw "$FilePath $($ArgumentList -join ' ') exited with $LASTEXITCODE" }
}

. (Join-Path $Root 'tools/ChildPwsh.ps1')

# Runs this same pwsh in a child process (tools/ChildPwsh.ps1 knows how).
function Invoke-ChildPwsh {
    param([string[]] $ArgumentList, [switch] $AllowFailure)
    $arguments = Get-ChildPwshArgument $ArgumentList
    if ($AllowFailure) { & $ChildPwsh @arguments } else { Invoke-Native $ChildPwsh $arguments }
}

function Invoke-Build {
    Invoke-Native dotnet @('build', (Join-Path $Root 'DyadPorts.sln'), '-c', $Configuration, '-nologo', '-v', 'q', '-clp:NoSummary')
    if (Test-Path $ModuleOut) { Remove-Item $ModuleOut -Recurse -Force }
    New-Item -ItemType Directory -Path $ModuleOut | Out-Null
    $bin = Join-Path $Root "src/DyadPorts/bin/$Configuration/netstandard2.0"
    Get-ChildItem $bin -Filter *.dll | Where-Object { $n = $_.Name; -not ($NeverShip | Where-Object { $n -like $_ }) } |
        Copy-Item -Destination $ModuleOut
    Copy-Item (Join-Path $Root 'DyadPorts.psd1') $ModuleOut
    Copy-Item (Join-Path $Root 'src/DyadPorts/DyadPorts.Format.ps1xml') $ModuleOut
    # Help: MAML generated from the help source and the built cmdlets (in a child pwsh, so this one loads nothing).
    $enUs = New-Item -ItemType Directory -Path (Join-Path $ModuleOut 'en-US')
    Copy-Item (Join-Path $Root 'src/DyadPorts/help/about_DyadPorts.help.txt') $enUs
    Invoke-ChildPwsh @('-NoProfile', '-NonInteractive', '-File', (Join-Path $Root 'tools/New-MamlHelp.ps1'), '-ModulePath', $ModuleOut,
        '-Source', (Join-Path $Root 'src/DyadPorts/help/DyadPorts.Help.psd1'), '-Destination', (Join-Path $enUs 'DyadPorts.dll-Help.xml'))
    Write-Host "Built module: $ModuleOut ($((Get-ChildItem $ModuleOut -Recurse -File).Count) files)"
}

function Get-PesterModulePath {
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $psd1 = Join-Path $packages 'pester/6.2.0/tools/Pester.psd1'
    if (-not (Test-Path $psd1)) { throw "Pester 6.2.0 was not restored to $psd1; run 'dotnet restore DyadPorts.sln'." }
    $psd1
}

# The real engines and the test image (root on Debian installs and starts what is missing; see the script).
function Invoke-EngineSetup {
    if ($IsLinux -and (Get-Command bash -ErrorAction SilentlyContinue)) {
        Invoke-Native bash @((Join-Path $Root 'tools/setup-engines.sh'))
    }
}

function Invoke-Test {
    Invoke-EngineSetup
    # This run's id (tests label what they create with it, and remove nothing else), then the one table of
    # engines and image (tools/test-engines.env + the image setup wrote), exported for xunit, Pester and children.
    $env:DYADPORTS_TEST_RUN = [guid]::NewGuid().ToString('N')
    . (Join-Path $Root 'tools/TestEnv.ps1')
    Set-TestEnvironment
    Write-Host "Test run $($TestEnv.RunId): AppIds start with '$($TestEnv.Prefix)'; engines $($TestEnv.Docker), $($TestEnv.Podman); image $($TestEnv.Image)"
    $env:DYADPORTS_MODULE = $ModuleOut

    $results = Join-Path $Out 'test-results'
    New-Item -ItemType Directory -Force -Path $results | Out-Null

    # xunit, with a trx file so the counts come from the runner, not from parsing console text.
    $trx = Join-Path $results 'xunit.trx'
    Remove-Item $trx -ErrorAction SilentlyContinue
    & dotnet test (Join-Path $Root 'tests/DyadPorts.Tests/DyadPorts.Tests.csproj') -c $Configuration --no-build -nologo `
        --logger "trx;LogFileName=$trx" --logger 'console;verbosity=normal'
    $xunit = [xml](Get-Content $trx -Raw)
    $counters = $xunit.TestRun.ResultSummary.Counters
    $xunitPassed = [int]$counters.passed
    $xunitFailed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
    $xunitSkipped = [int]$counters.notExecuted
    if ($xunitPassed + $xunitFailed -eq 0) { $xunitFailed = 1 }

    # Pester in a separate pwsh against the built module.
    $pesterJson = Join-Path $results 'pester.json'
    Remove-Item $pesterJson -ErrorAction SilentlyContinue
    $runner = Join-Path $Root 'tests/pester/Invoke-PesterRun.ps1'
    Invoke-ChildPwsh @('-NoProfile', '-NonInteractive', '-File', $runner, '-PesterPath', (Get-PesterModulePath), '-ResultPath', $pesterJson) -AllowFailure
    $pester = if (Test-Path $pesterJson) { Get-Content $pesterJson -Raw | ConvertFrom-Json } else { [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0 } }

    $passed = $xunitPassed + [int]$pester.Passed
    $failed = $xunitFailed + [int]$pester.Failed
    $skipped = $xunitSkipped + [int]$pester.Skipped
    Write-Host ''
    Write-Host "Summary: xunit $xunitPassed passed, $xunitFailed failed, $xunitSkipped skipped; Pester $($pester.Passed) passed, $($pester.Failed) failed, $($pester.Skipped) skipped"
    if ($env:CI -eq 'true' -and $skipped -gt 0) {
        # In CI every test must run: a skipped engine test proves nothing, so it counts as a failure.
        Write-Host "CI=true: the $skipped skipped test(s) count as failed."
        $failed += $skipped
    }
    Write-Host "$passed passed, $failed failed, $skipped skipped"
    if ($failed -gt 0) { exit 1 }
}

function Invoke-Demo {
    & (Join-Path $Root 'tools/Demo.ps1') -ModulePath $ModuleOut
}

function Invoke-Bench {
    Invoke-EngineSetup
    & (Join-Path $Root 'bench/Invoke-Bench.ps1') -ModulePath $ModuleOut
}

function Invoke-Clean {
    foreach ($path in @($Out) + (Get-ChildItem $Root -Recurse -Directory -Include bin, obj | ForEach-Object FullName)) {
        if (Test-Path $path) { Remove-Item $path -Recurse -Force }
    }
}

foreach ($t in $Task) {
    switch ($t) {
        'Build' { Invoke-Build }
        'Test' { Invoke-Build; Invoke-Test }
        'Demo' { Invoke-Build; Invoke-Demo }
        'Bench' { Invoke-Build; Invoke-Bench }
        'Clean' { Invoke-Clean }
    }
}
