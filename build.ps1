#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds, tests, demonstrates and benchmarks DyadPorts.
.DESCRIPTION
    Tasks:
      Build  - compiles and lays out an importable module in out/DyadPorts (dependencies also ReadyToRun for linux-x64)
      Package - Build (Release), then out/packages/DyadPorts.<version>.nupkg with Compress-PSResource, for Install-PSResource
      Test   - Build, Package, start the real engines (root on Debian), run xunit then Pester; the last line is
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
    [ValidateSet('Build', 'Package', 'Test', 'Demo', 'Bench', 'Clean')]
    [string[]] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$Root = $PSScriptRoot
$Out = Join-Path $Root 'out'
$ModuleOut = Join-Path $Out 'DyadPorts'

# What PowerShell itself ships and the module must never carry: the cmdlets must share these with pwsh.
$NeverShip = @('System.Management.Automation.dll', 'Microsoft.PowerShell.*.dll', 'Microsoft.Management.Infrastructure*.dll')
# The module's layout. Beside the manifest, in PowerShell's default load context: the loader (the manifest's nested
# module, imported first) and the cmdlets (RootModule). In deps/: every other assembly (DyadPorts.Core, Docker.DotNet,
# Newtonsoft.Json, and the fleet's DyadPorts.Fleet, dotnet-etcd, Grpc.*, Google.*, Microsoft.Extensions.DependencyInjection
# and Logging.Abstractions), where only the module's own load context looks (src/DyadPorts.Loader); in deps/linux-x64/
# the same assemblies compiled ReadyToRun, which the loader prefers on that runtime (see $ReadyToRunRid below). pwsh ships none of
# those Microsoft.Extensions.* (only ObjectPool), and even one it shipped would ship here too: the module binds its own. Nothing of deps/ may
# sit beside DyadPorts.dll: the default context would find it there and bind it, with whatever versions pwsh or
# another module already loaded.
$LoaderAssembly = 'DyadPorts.Loader.dll'
$RootAssembly = 'DyadPorts.dll'
$DepsFolder = 'deps'
# ReadyToRun (issue 18): deps/<RID>/ holds the same assemblies as deps/, compiled ahead of time for this one runtime
# identifier by 'dotnet publish -r <RID> -p:PublishReadyToRun=true' (crossgen2 from the NuGet package
# Microsoft.NETCore.App.Crossgen2.<host RID>, whose version the SDK picks). The loader binds them only in a runtime whose
# RuntimeInformation.RuntimeIdentifier is exactly this RID: a ReadyToRun image of another platform does not load at all
# (BadImageFormatException), so every other platform binds the IL-only copies in deps/ and JITs them, as before.
# DyadPorts.dll and the loader, which PowerShell loads from the manifest's folder on every platform, stay IL-only.
$ReadyToRunRid = 'linux-x64'

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

# The one version source: the manifest's ModuleVersion, passed to the assemblies at build time.
$ModuleVersion = (Import-PowerShellDataFile (Join-Path $Root 'DyadPorts.psd1')).ModuleVersion

function Invoke-Build {
    Invoke-Native dotnet @('build', (Join-Path $Root 'DyadPorts.sln'), '-c', $Configuration, "-p:Version=$ModuleVersion", '-nologo', '-v', 'q', '-clp:NoSummary')
    if (Test-Path $ModuleOut) { Remove-Item $ModuleOut -Recurse -Force }
    New-Item -ItemType Directory -Path $ModuleOut | Out-Null
    $bin = Join-Path $Root "src/DyadPorts/bin/$Configuration/net10.0"
    $deps = New-Item -ItemType Directory -Path (Join-Path $ModuleOut $DepsFolder)
    foreach ($dll in Get-ChildItem $bin -Filter *.dll | Where-Object { $n = $_.Name; -not ($NeverShip | Where-Object { $n -like $_ }) }) {
        Copy-Item $dll.FullName -Destination $(if ($dll.Name -eq $RootAssembly) { $ModuleOut } else { $deps })
    }
    Copy-Item (Join-Path $Root "src/DyadPorts.Loader/bin/$Configuration/net10.0/$LoaderAssembly") $ModuleOut
    Copy-ReadyToRunDependency $deps
    Copy-ModuleManifest (Join-Path $ModuleOut 'DyadPorts.psd1')
    Copy-Item (Join-Path $Root 'LICENSE') $ModuleOut
    Copy-Item (Join-Path $Root 'src/DyadPorts/DyadPorts.Format.ps1xml') $ModuleOut
    # Help: MAML generated from the help source and the built cmdlets (in a child pwsh, so this one loads nothing).
    $enUs = New-Item -ItemType Directory -Path (Join-Path $ModuleOut 'en-US')
    Copy-Item (Join-Path $Root 'src/DyadPorts/help/about_DyadPorts.help.txt') $enUs
    Invoke-ChildPwsh @('-NoProfile', '-NonInteractive', '-File', (Join-Path $Root 'tools/New-MamlHelp.ps1'), '-ModulePath', $ModuleOut,
        '-Source', (Join-Path $Root 'src/DyadPorts/help/DyadPorts.Help.psd1'), '-Destination', (Join-Path $enUs 'DyadPorts.dll-Help.xml'))
    Write-Host "Built module: $ModuleOut ($((Get-ChildItem $ModuleOut -Recurse -File).Count) files)"
}

# deps/<RID>/: every assembly of deps/, compiled ReadyToRun for $ReadyToRunRid, and nothing else.
function Copy-ReadyToRunDependency {
    param([System.IO.DirectoryInfo] $Deps)
    $published = Join-Path $Out "publish-$ReadyToRunRid"
    if (Test-Path $published) { Remove-Item $published -Recurse -Force }
    Invoke-Native dotnet @('publish', (Join-Path $Root 'src/DyadPorts/DyadPorts.csproj'), '-c', $Configuration, '-r', $ReadyToRunRid,
        '--self-contained', 'false', '-p:PublishReadyToRun=true', "-p:Version=$ModuleVersion", '-o', $published, '-nologo', '-v', 'q', '-clp:NoSummary')
    $native = New-Item -ItemType Directory -Path (Join-Path $Deps.FullName $ReadyToRunRid)
    foreach ($dll in Get-ChildItem $Deps.FullName -Filter *.dll) {
        $compiled = Join-Path $published $dll.Name
        if (-not (Test-Path $compiled)) { throw "dotnet publish -r $ReadyToRunRid wrote no $($dll.Name): deps/$ReadyToRunRid must mirror deps/" }
        Copy-Item $compiled -Destination $native
    }
    Remove-Item $published -Recurse -Force
}

# The manifest as shipped: the source manifest with ReleaseNotes taken from CHANGELOG.md's section for ModuleVersion.
function Copy-ModuleManifest {
    param([string] $Destination)
    $changelog = Get-Content (Join-Path $Root 'CHANGELOG.md') -Raw
    $pattern = '(?ms)^## \[' + [regex]::Escape($ModuleVersion) + '\][^\n]*\n(.*?)(?=^## |\z)'
    $section = [regex]::Match($changelog, $pattern)
    if (-not $section.Success -or -not $section.Groups[1].Value.Trim()) {
        throw "CHANGELOG.md has no section '## [$ModuleVersion]' for the manifest's ModuleVersion; add one before building."
    }
    $notes = $section.Groups[1].Value.Trim() -replace "'", "''"
    $manifest = Get-Content (Join-Path $Root 'DyadPorts.psd1') -Raw
    $line = '(?m)^(\s*)ReleaseNotes\s*=.*$'
    if ($manifest -notmatch $line) { throw "DyadPorts.psd1 has no 'ReleaseNotes = ...' line in PSData to fill." }
    $manifest = [regex]::Replace($manifest, $line, { param($m) "$($m.Groups[1].Value)ReleaseNotes = '$notes'" })
    [IO.File]::WriteAllText($Destination, $manifest, [Text.UTF8Encoding]::new($false))
}

# out/packages/DyadPorts.<version>.nupkg from the module folder, exactly as users get it. Compress-PSResource runs in
# a child pwsh with a private XDG_DATA_HOME: PSResourceGet writes its repository list there on first use.
function Invoke-Package {
    $packages = Join-Path $Out 'packages'
    if (Test-Path $packages) { Remove-Item $packages -Recurse -Force }
    New-Item -ItemType Directory -Path $packages | Out-Null
    # It must exist: .NET resolves a missing XDG_DATA_HOME to '', and PSResourceGet would then write into the current folder.
    $data = New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) ('dyadports-package-' + [guid]::NewGuid().ToString('N')))
    $saved = $env:XDG_DATA_HOME
    try {
        $env:XDG_DATA_HOME = $data
        Invoke-ChildPwsh @('-NoProfile', '-NonInteractive', '-Command',
            "`$ErrorActionPreference = 'Stop'; Compress-PSResource -Path '$ModuleOut' -DestinationPath '$packages'")
    }
    finally {
        $env:XDG_DATA_HOME = $saved
        Remove-Item $data -Recurse -Force -ErrorAction SilentlyContinue
    }
    $nupkg = Join-Path $packages "DyadPorts.$ModuleVersion.nupkg"
    if (-not (Test-Path $nupkg)) { throw "Compress-PSResource did not write $nupkg" }
    Write-Host "Package: $nupkg"
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
        Invoke-Native bash @((Join-Path $Root 'tools/setup-etcd.sh'))
    }
}

# Runs $Body as one run of the tests or the bench: a fresh run id (what the run creates carries it, and it removes
# nothing else), the one table of engines and image (tools/test-engines.env + the image setup wrote) exported for its
# children, and a record of the run (tools/test-runs.sh). What killed runs left in the engines goes first (their
# records name it, and their process is gone); this run's own record goes when it ends, so a kill of it is mended
# the same way by the next run.
function Invoke-RecordedRun {
    param([string] $Kind, [scriptblock] $Body)
    Invoke-EngineSetup
    $env:DYADPORTS_TEST_RUN = [guid]::NewGuid().ToString('N')
    . (Join-Path $Root 'tools/TestEnv.ps1')
    Set-TestEnvironment
    Write-Host "$Kind run $($TestEnv.RunId): AppIds start with '$($TestEnv.Prefix)'; engines $($TestEnv.Docker), $($TestEnv.Podman); image $($TestEnv.Image)"
    $runs = Join-Path $Root 'tools/test-runs.sh'
    & bash $runs reap
    $record = "$($Kind.ToLowerInvariant())-$($TestEnv.RunId)"
    Invoke-Native bash @($runs, 'begin', $record, $PID, "label=$($TestEnv.RunId)", "prefix=$($TestEnv.Prefix)", "tmp=$($TestEnv.TempRoot)", "etcd=$($TestEnv.RunId)")
    # Ended only when the body returned: a run stopped by Ctrl+C (PowerShell runs finally blocks then) or that threw
    # may have left containers its children never removed, so its record stays for the next run's reap. The run's
    # temporary folder (TempRoot: its tests' states, child scripts and sockets) goes whatever ended the body. A command
    # that falls back to the per-user state folder (an etcd state keeps its preview logs and engine-ports cache there)
    # finds it in TempRoot too ($XDG_STATE_HOME for the run and its children), never in the user's own.
    $savedStateHome = $env:XDG_STATE_HOME
    $env:XDG_STATE_HOME = Join-Path $TestEnv.TempRoot 'xdg-state'
    try {
        & $Body
        & bash $runs end $record
    }
    finally {
        $env:XDG_STATE_HOME = $savedStateHome
        Remove-Item -LiteralPath $TestEnv.TempRoot -Recurse -Force -ErrorAction SilentlyContinue
        # The runs' shared parent too, once no run has a folder in it: a fresh machine ends as it began.
        $parent = Split-Path $TestEnv.TempRoot
        if ((Test-Path -LiteralPath $parent) -and -not (Get-ChildItem -LiteralPath $parent -Force)) { Remove-Item -LiteralPath $parent -ErrorAction SilentlyContinue }
    }
}

function Invoke-Test {
    Invoke-RecordedRun 'Test' { Invoke-TestSuites }
    if ($script:TestsFailed -gt 0) { exit 1 }
}

# xunit, then Pester against the built module; the last line is 'N passed, N failed, N skipped'.
function Invoke-TestSuites {
    $env:DYADPORTS_MODULE = $ModuleOut

    $results = Join-Path $Out 'test-results'
    New-Item -ItemType Directory -Force -Path $results | Out-Null

    # xunit, with a trx file so the counts come from the runner, not from parsing console text.
    $trx = Join-Path $results 'xunit.trx'
    Remove-Item $trx -ErrorAction SilentlyContinue
    & dotnet test (Join-Path $Root 'tests/DyadPorts.Tests/DyadPorts.Tests.csproj') -c $Configuration --no-build -nologo `
        --logger "trx;LogFileName=$trx" --logger 'console;verbosity=normal'
    $xunitExit = $LASTEXITCODE
    $xunit = [xml](Get-Content $trx -Raw)
    $summary = $xunit.TestRun.ResultSummary
    $counters = $summary.Counters
    $xunitPassed = [int]$counters.passed
    $xunitFailed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
    $xunitSkipped = [int]$counters.notExecuted
    if ($xunitPassed + $xunitFailed -eq 0) { $xunitFailed = 1 }
    if ($xunitFailed -eq 0 -and ($xunitExit -ne 0 -or $summary.outcome -ne 'Completed')) {
        # The test host crashed (the run aborted): the tests it never ran are counted nowhere, so the run is one failure.
        Write-Host "xunit: the run ended '$($summary.outcome)' (exit $xunitExit) with no failed test: the test host aborted; counted as 1 failed."
        $xunitFailed = 1
    }

    # Pester in a separate pwsh against the built module.
    $pesterJson = Join-Path $results 'pester.json'
    Remove-Item $pesterJson -ErrorAction SilentlyContinue
    $runner = Join-Path $Root 'tests/pester/Invoke-PesterRun.ps1'
    Invoke-ChildPwsh @('-NoProfile', '-NonInteractive', '-File', $runner, '-PesterPath', (Get-PesterModulePath), '-ResultPath', $pesterJson) -AllowFailure
    $pester = if (Test-Path $pesterJson) { Get-Content $pesterJson -Raw | ConvertFrom-Json } else { [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0; FailedNames = @('the Pester run wrote no result file') } }

    $passed = $xunitPassed + [int]$pester.Passed
    $failed = $xunitFailed + [int]$pester.Failed
    $skipped = $xunitSkipped + [int]$pester.Skipped
    Write-Host ''
    # The failures by name, here at the end, so that a run's tail (all CI shows) says which tests failed and why.
    # By XPath: under StrictMode a trx without <Results> (a run that aborted) or a result without <Output> must not throw.
    $failures = @($xunit.SelectNodes("//*[local-name()='UnitTestResult']") | Where-Object { $_.outcome -notin 'Passed', 'NotExecuted' } |
        ForEach-Object {
            $message = $_.SelectSingleNode("*[local-name()='Output']/*[local-name()='ErrorInfo']/*[local-name()='Message']")
            "xunit $($_.outcome): $($_.testName) :: $(if ($message) { ($message.InnerText -split "`n")[0].Trim() })"
        })
    $failures += @($pester.PSObject.Properties['FailedNames']?.Value | Where-Object { $_ } | ForEach-Object { "Pester failed: $_" })
    foreach ($failure in $failures) { Write-Host ($failure.Length -gt 400 ? $failure.Substring(0, 400) + '...' : $failure) }
    Write-Host "Summary: xunit $xunitPassed passed, $xunitFailed failed, $xunitSkipped skipped; Pester $($pester.Passed) passed, $($pester.Failed) failed, $($pester.Skipped) skipped"
    if ($env:CI -eq 'true' -and $skipped -gt 0) {
        # In CI every test must run: a skipped engine test proves nothing, so it counts as a failure.
        Write-Host "CI=true: the $skipped skipped test(s) count as failed."
        $failed += $skipped
    }
    Write-Host "$passed passed, $failed failed, $skipped skipped"
    $script:TestsFailed = $failed
}

function Invoke-Demo {
    & (Join-Path $Root 'tools/Demo.ps1') -ModulePath $ModuleOut
}

function Invoke-Bench { Invoke-RecordedRun 'Bench' { & (Join-Path $Root 'bench/Invoke-Bench.ps1') -ModulePath $ModuleOut } }

function Invoke-Clean {
    foreach ($path in @($Out) + (Get-ChildItem $Root -Recurse -Directory -Include bin, obj | ForEach-Object FullName)) {
        if (Test-Path $path) { Remove-Item $path -Recurse -Force }
    }
}

foreach ($t in $Task) {
    switch ($t) {
        'Build' { Invoke-Build }
        'Package' {
            if ($Configuration -ne 'Release') { throw 'Package builds Release only: run it without -Configuration Debug.' }
            Invoke-Build; Invoke-Package
        }
        'Test' { Invoke-Build; Invoke-Package; Invoke-Test }
        'Demo' { Invoke-Build; Invoke-Demo }
        'Bench' { Invoke-Build; Invoke-Bench }
        'Clean' { Invoke-Clean }
    }
}
