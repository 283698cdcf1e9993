# The module's dependencies load in its own AssemblyLoadContext (src/DyadPorts.Loader): another version of one of them,
# already loaded in the process by someone else, changes nothing for DyadPorts. Each case runs in a fresh child pwsh.
# The other version is Docker.DotNet.Enhanced 4.3.3, which is assembly 'Docker.DotNet' 4.3.0.0 with the same key as
# the module's Docker.DotNet 3.125.0.0 (restored, not referenced, by tests/DyadPorts.Tests: run 'dotnet restore
# DyadPorts.sln'). Before the load context, the module bound to it and every engine call failed with "Could not load
# type 'Docker.DotNet.Credentials' from assembly 'Docker.DotNet, Version=4.3.0.0'". Ports 24500-24519.
BeforeDiscovery { . (Join-Path $PSScriptRoot 'Common.ps1') }
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')

    # A NuGet package's file, restored by 'dotnet restore DyadPorts.sln' (never a skip when it is missing).
    function Get-RestoredFile {
        param([string] $RelativePath)
        $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
        $path = Join-Path $packages $RelativePath
        if (-not (Test-Path $path)) { throw "$path was not restored: run 'dotnet restore DyadPorts.sln' (tests/DyadPorts.Tests downloads it)." }
        $path
    }

    # Runs $Script in a fresh pwsh that has imported nothing (the caller imports), with the module path in $module;
    # returns the object the script writes last, as JSON.
    function Invoke-IsolatedChild {
        param([string] $Script)
        $path = Join-Path ([IO.Path]::GetTempPath()) ("dyadports-child-" + [guid]::NewGuid().ToString('N') + '.ps1')
        "`$ErrorActionPreference = 'Stop'`n`$module = '$ModulePath'`n$Script" | Set-Content -Path $path
        try {
            $out = @(& $ChildPwsh @(Get-ChildPwshArgument '-NoProfile', '-NonInteractive', '-File', $path) 2>&1)
            if ($LASTEXITCODE -ne 0) { throw "child pwsh exited with ${LASTEXITCODE}: $($out -join "`n")" }
            $out[-1] | ConvertFrom-Json
        }
        finally { Remove-Item $path -ErrorAction SilentlyContinue }
    }

    # Name, version and load context of every loaded assembly of the given names, as 'Name Version Context'.
    $script:LoadedProbe = @'
function Get-Loaded([string[]] $Names) {
    [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -in $Names } |
        ForEach-Object { '{0} {1} {2}' -f $_.GetName().Name, $_.GetName().Version, [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name } |
        Sort-Object
}
'@
    $script:Version = "$((Import-PowerShellDataFile (Join-Path $ModulePath 'DyadPorts.psd1')).ModuleVersion).0"
    $script:OtherDockerDotNet = Get-RestoredFile 'docker.dotnet.enhanced/4.3.3/lib/net10.0/Docker.DotNet.dll'
}

Describe 'Another Docker.DotNet already loaded, on <Engine>' -ForEach $Engines {
    BeforeAll {
        Assert-EngineAnswers $Endpoint
        Remove-TestContainers $Engine $Endpoint
        $app = Join-Path TestDrive: 'app'
        New-Item -ItemType Directory $app | Out-Null
        'isolated ok' | Set-Content (Join-Path $app 'index.html')
        $app = (Resolve-Path $app).ProviderPath
    }
    AfterAll { Remove-TestContainers $Engine $Endpoint }

    It 'requests a port and starts, answers and stops a preview, with its own Docker.DotNet in the DyadPorts context' {
        $state = New-TestState
        $result = Invoke-IsolatedChild @"
$LoadedProbe
`$other = [Reflection.Assembly]::LoadFrom('$OtherDockerDotNet')
Import-Module `$module
`$env:DYAD_PORTS_STATE = '$state'
`$allocation = Request-DyadPort '${Prefix}iso-req' -Engine $Engine -EngineEndpoint '$Endpoint' -PortRange 24500-24509
`$preview = Start-DyadPreview '${Prefix}iso-prev' -Path '$app' -Image '$Image' -Command 'httpd -f -p "`$PORT" -h /app' -PortRange 24510-24519 -Engine $Engine -EngineEndpoint '$Endpoint'
`$answer = (Invoke-WebRequest "http://127.0.0.1:`$(`$preview.Port)/" -UseBasicParsing).Content.Trim()
`$stopped = Stop-DyadPreview '${Prefix}iso-prev' -Remove -PassThru -Engine $Engine -EngineEndpoint '$Endpoint'
Remove-DyadPortAllocation '${Prefix}iso-req'
[pscustomobject]@{
    Port = `$allocation.Port
    IsPortAllocation = `$allocation -is [DyadPorts.PortAllocation]
    Answer = `$answer
    Stopped = `$stopped.AppId
    CoreContext = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext([DyadPorts.PortAllocation].Assembly).Name
    OtherContext = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext(`$other).Name
    Loaded = @(Get-Loaded 'Docker.DotNet', 'Newtonsoft.Json', 'DyadPorts', 'DyadPorts.Core', 'DyadPorts.Loader')
} | ConvertTo-Json -Compress
"@
        $result.Port | Should -BeIn (24500..24509)
        $result.IsPortAllocation | Should -BeTrue -Because '[DyadPorts.PortAllocation] names the type the cmdlets return'
        $result.Answer | Should -Be 'isolated ok'
        $result.Stopped | Should -Be "${Prefix}iso-prev"
        $result.CoreContext | Should -Be 'DyadPorts'
        $result.OtherContext | Should -Be 'Default'
        $result.Loaded | Should -Contain 'Docker.DotNet 4.3.0.0 Default' -Because 'the version loaded first stays where it was, untouched'
        $result.Loaded | Should -Contain 'Docker.DotNet 3.125.0.0 DyadPorts'
        $result.Loaded | Should -Contain "DyadPorts $Version Default" -Because 'the cmdlets share System.Management.Automation with pwsh'
        $result.Loaded | Should -Contain "DyadPorts.Loader $Version Default"
        $result.Loaded | Should -Contain "DyadPorts.Core $Version DyadPorts"
        @($result.Loaded | Where-Object { $_ -like 'Newtonsoft.Json * DyadPorts' }).Count | Should -Be 1 -Because "Docker.DotNet's JSON binds to the module's copy in deps/"
        @($result.Loaded | Where-Object { $_ -like 'DyadPorts.Core *' }).Count | Should -Be 1
    }
}

Describe 'Import, Remove and Import again in one pwsh' {
    It 'keeps one DyadPorts context and one DyadPorts.Core, and every cmdlet works after each import' {
        $state = New-TestState
        $result = Invoke-IsolatedChild @"
$LoadedProbe
`$env:DYAD_PORTS_STATE = '$state'
Import-Module `$module
`$first = (Request-DyadPort '${Prefix}iso-re1' -Engine Process -PortRange 24500-24509).Port
Remove-Module DyadPorts
`$removed = @(Get-Command -Module DyadPorts -ErrorAction Ignore).Count
Import-Module `$module
`$again = (Get-DyadPortAllocation '${Prefix}iso-re1').Port
`$second = (Request-DyadPort '${Prefix}iso-re2' -Engine Process -PortRange 24500-24509).Port
Import-Module `$module -Force
`$forced = (Request-DyadPort '${Prefix}iso-re3' -Engine Process -PortRange 24500-24509) -is [DyadPorts.PortAllocation]
Remove-DyadPortAllocation '${Prefix}iso-re1', '${Prefix}iso-re2', '${Prefix}iso-re3'
[pscustomobject]@{
    First = `$first; Removed = `$removed; Again = `$again; Second = `$second; Forced = `$forced
    Commands = @(Get-Command -Module DyadPorts).Count
    Contexts = @([System.Runtime.Loader.AssemblyLoadContext]::All | Where-Object Name -eq 'DyadPorts').Count
    Loaded = @(Get-Loaded 'DyadPorts', 'DyadPorts.Core', 'DyadPorts.Loader')
} | ConvertTo-Json -Compress
"@
        $result.First | Should -Be 24500
        $result.Removed | Should -Be 0
        $result.Again | Should -Be 24500
        $result.Second | Should -Be 24501
        $result.Forced | Should -BeTrue
        $result.Commands | Should -Be (Import-PowerShellDataFile (Join-Path $ModulePath 'DyadPorts.psd1')).CmdletsToExport.Count   # every exported cmdlet is there again
        $result.Contexts | Should -Be 1
        $result.Loaded | Should -Be @("DyadPorts $Version Default", "DyadPorts.Core $Version DyadPorts", "DyadPorts.Loader $Version Default")
    }
}
