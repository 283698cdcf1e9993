<#
.SYNOPSIS
    A copy of this pwsh with its own assemblies compiled ReadyToRun, the way PowerShell's release packages are built, for
    the one-shot bench (issue 18 item 4) to measure the module on the pwsh that users install as well as on this one.
.DESCRIPTION
    The pwsh here is the dotnet tool PowerShell 7.6.9, which PowerShell builds framework-dependent and IL only: in
    PowerShell/PowerShell's PowerShell.Common.props, 'FxDependent' sets PublishReadyToRun=false, while the release
    packages ('SelfContained' and 'FxDependentDeployment', Release configuration) set it true, and
    tools/packaging/packaging.psm1 checks that System.Management.Automation.dll is ReadyToRun before it packages them.
    So a fresh tool pwsh jits every PowerShell code path a module adds (binary module import, the format loader, a
    table view), and a pwsh installed from a release package does not.

    This script copies $PSHOME to -Destination and compiles with crossgen2 each managed assembly that linux-x64 loads
    from it (the top folder and runtimes/unix, runtimes/linux), as the release build does, skipping those already
    ReadyToRun; Modules/ is copied as it is (its script modules have no code to compile). crossgen2 comes from the NuGet
    package Microsoft.NETCore.App.Crossgen2.linux-x64 that './build.ps1 Build' restores for the module's own ReadyToRun
    dependencies (the version the SDK picks, matched to this runtime); its references are this runtime's shared
    framework and the copied folder. Nothing is installed: the copy is started as 'dotnet exec <Destination>/pwsh.dll'.

    Prints one line per assembly (compiled, already ReadyToRun, or not managed) and the seconds it took.
.EXAMPLE
    dotnet pwsh -NoProfile -File bench/New-ReleasePwsh.ps1 -Destination /tmp/pwsh-release
#>
param(
    [Parameter(Mandatory)] [string] $Destination,
    [int] $ThrottleLimit = [Environment]::ProcessorCount
)
$ErrorActionPreference = 'Stop'
if (-not $IsLinux -or [Runtime.InteropServices.RuntimeInformation]::OSArchitecture -ne 'X64') { throw 'New-ReleasePwsh.ps1 builds a linux-x64 copy: run it on linux-x64.' }

$runtime = [Environment]::Version.ToString(3)
$framework = Split-Path ([object].Assembly.Location)
$packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path $HOME '.nuget/packages' }
$crossgen = Join-Path $packages "microsoft.netcore.app.crossgen2.linux-x64/$runtime/tools/crossgen2"
if (-not (Test-Path $crossgen)) {
    # The SDK picks the package's version; another patch of the same major.minor compiles for this runtime just as well.
    $crossgen = Get-ChildItem (Join-Path $packages 'microsoft.netcore.app.crossgen2.linux-x64') -Directory -ErrorAction SilentlyContinue |
        Where-Object { $_.Name -match "^$([regex]::Escape([Environment]::Version.ToString(2)))\.\d+$" } | Sort-Object { [version]$_.Name } -Descending |
        ForEach-Object { Join-Path $_.FullName 'tools/crossgen2' } | Where-Object { Test-Path $_ } | Select-Object -First 1
}
if (-not $crossgen) { throw "crossgen2 for .NET $runtime is not in $packages (Microsoft.NETCore.App.Crossgen2.linux-x64): run './build.ps1 Build' first, which restores it." }

$sw = [Diagnostics.Stopwatch]::StartNew()
if (Test-Path $Destination) { Remove-Item -Recurse -Force $Destination }
Copy-Item -Recurse $PSHOME $Destination
$Destination = (Resolve-Path $Destination).Path
$loaded = @(Get-ChildItem $Destination -Filter *.dll) +
    @(Get-ChildItem (Join-Path $Destination 'runtimes') -Recurse -Filter *.dll -ErrorAction SilentlyContinue |
        Where-Object { $_.FullName -match '/runtimes/(unix|linux|linux-x64)/' })
# The references are the original IL in $PSHOME, never the copy: a compiled assembly replaces its IL in the copy while
# the other compilations run.
$references = @("$framework/*.dll", "$PSHOME/*.dll")
"# release-like pwsh: $Destination from $PSHOME; crossgen2 $crossgen; runtime $runtime; $($loaded.Count) assemblies"
$lines = $loaded | ForEach-Object -ThrottleLimit $ThrottleLimit -Parallel {
    $file = $_.FullName
    $source = Join-Path $using:PSHOME ([IO.Path]::GetRelativePath($using:Destination, $file))
    # A managed assembly, and whether it already carries a ReadyToRun header (its ManagedNativeHeader)?
    $stream = [IO.File]::OpenRead($file)
    try {
        $pe = [Reflection.PortableExecutable.PEReader]::new($stream)
        $kind = if (-not $pe.HasMetadata) { 'native' } elseif ($pe.PEHeaders.CorHeader.ManagedNativeHeaderDirectory.Size -gt 0) { 'ready-to-run' } else { 'IL' }
    } catch [BadImageFormatException] {
        $kind = 'native'
    } finally {
        $stream.Dispose()
    }
    if ($kind -ne 'IL') { return "$kind`t$($_.Name)" }
    $out = "$file.r2r"
    # The arguments in a response file, one per line: pwsh expands a '*' in a native command's argument by itself.
    $rsp = "$file.rsp"
    Set-Content -Path $rsp -Value (@($source, "--out:$out", '--targetos:linux', '--targetarch:x64', '--optimize') + @(foreach ($r in $using:references) { "--reference:$r" }))
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $said = & $using:crossgen "@$rsp" 2>&1
    Remove-Item $rsp
    if ($LASTEXITCODE -ne 0 -or -not (Test-Path $out)) {
        Remove-Item $out -ErrorAction SilentlyContinue
        return "left IL (crossgen2 exited ${LASTEXITCODE}: $(($said | Select-Object -Last 1)))`t$($_.Name)"
    }
    Move-Item -Force $out $file
    "compiled in $([math]::Round($sw.Elapsed.TotalSeconds, 1)) s`t$($_.Name)"
}
$lines | Sort-Object { $_.Split("`t")[1] }
$leftIL = @($lines | Where-Object { $_ -like 'left IL*' })
"# done in $([math]::Round($sw.Elapsed.TotalSeconds)) s: $(@($lines | Where-Object { $_ -like 'compiled*' }).Count) compiled, $(@($lines | Where-Object { $_ -like 'ready-to-run*' }).Count) already ReadyToRun, $(@($lines | Where-Object { $_ -like 'native*' }).Count) not managed, $(@($lines | Where-Object { $_ -like 'left IL*' }).Count) left IL"
# A copy with IL left in it is not what it says: measuring it as "release-like" would mislead.
if ($leftIL.Count -gt 0) { throw "crossgen2 left $($leftIL.Count) assembly(ies) IL only in $Destination (above); the copy is not release-like." }
