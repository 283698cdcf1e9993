# The install path users take: Install-PSResource from a repository, Import-Module by name, a real allocation, help, uninstall.
# It runs in a fresh pwsh whose HOME and XDG folders are temporary, so the user's module folder
# (~/.local/share/powershell/Modules, first in PSModulePath) and PSResourceGet's repository list stay untouched.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $Version = (Import-PowerShellDataFile (Join-Path $ModulePath 'DyadPorts.psd1')).ModuleVersion
    $PackageDir = if ($env:DYADPORTS_PACKAGES) { $env:DYADPORTS_PACKAGES } else { Join-Path (Split-Path $ModulePath) 'packages' }
    $Nupkg = Join-Path $PackageDir "DyadPorts.$Version.nupkg"
    if (-not (Test-Path $Nupkg)) { throw "No package at ${Nupkg}: run './build.ps1 Package' (build.ps1 Test runs it before Pester)." }
    $Docker = ($Engines | Where-Object Engine -eq 'Docker').Endpoint
    Assert-EngineAnswers $Docker

    # What of the real user's data the test must leave as it found it.
    $RealData = if ($env:XDG_DATA_HOME) { $env:XDG_DATA_HOME } else { Join-Path $HOME '.local/share' }
    function Get-UserFootprint {
        [pscustomobject]@{
            Modules        = @(Get-ChildItem (Join-Path $RealData 'powershell/Modules') -Force -ErrorAction SilentlyContinue).Name -join ','
            PSResourceGet  = Test-Path (Join-Path $RealData 'PSResourceGet')
            RepositoryList = (Get-Item (Join-Path $RealData 'PSResourceGet/PSResourceRepository.xml') -ErrorAction SilentlyContinue).LastWriteTimeUtc
        }
    }
}

Describe 'Installing the package by name' {
    BeforeAll {
        $TempHome = (New-Item -ItemType Directory (Join-Path ([IO.Path]::GetTempPath()) ('dyadports-home-' + [guid]::NewGuid().ToString('N')))).FullName
        $Repository = (New-Item -ItemType Directory (Join-Path $TempHome 'repository')).FullName
        Copy-Item $Nupkg $Repository
        # Every XDG folder exists: .NET turns a missing XDG_DATA_HOME into '', and PSResourceGet would write into the current folder.
        $XdgVariables = @{
            HOME = $TempHome
            XDG_DATA_HOME = Join-Path $TempHome '.local/share'
            XDG_CONFIG_HOME = Join-Path $TempHome '.config'
            XDG_CACHE_HOME = Join-Path $TempHome '.cache'
            DYAD_PORTS_STATE = Join-Path $TempHome 'state/state.json'
        }
        foreach ($name in 'XDG_DATA_HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME') { New-Item -ItemType Directory -Force $XdgVariables[$name] | Out-Null }
        $AppId = [guid]::NewGuid().ToString('N').Substring(0, 8) + '-install'   # a random prefix: never an id someone else uses
        $Result = Join-Path $TempHome 'result.json'
        $script = @"
`$ErrorActionPreference = 'Stop'
`$r = [ordered]@{}
Register-PSResourceRepository -Name DyadPortsLocal -Uri '$Repository' -Trusted
Install-PSResource DyadPorts -Repository DyadPortsLocal -TrustRepository -Quiet
`$r.Installed = @(Get-InstalledPSResource DyadPorts).ForEach({ `$_.InstalledLocation })
`$r.UserModulePath = (`$env:PSModulePath -split [IO.Path]::PathSeparator)[0]
Import-Module DyadPorts
`$m = Get-Module DyadPorts
`$r.ModuleBase = `$m.ModuleBase
`$r.Version = `$m.Version.ToString()
`$a = Request-DyadPort '$AppId' -Engine Docker -EngineEndpoint '$Docker' -PortRange 21990-21999
`$r.Bound = @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -in 'DyadPorts.Core', 'Docker.DotNet', 'Newtonsoft.Json' -and `$_.Location -like "`$(`$m.ModuleBase)*" } | ForEach-Object { [IO.Path]::GetRelativePath(`$m.ModuleBase, `$_.Location) -replace '\\', '/' } | Sort-Object)
`$r.Rid = [System.Runtime.InteropServices.RuntimeInformation]::RuntimeIdentifier
`$r.AppId = `$a.AppId; `$r.Port = `$a.Port; `$r.Status = `$a.Status.ToString(); `$r.Engine = `$a.Engine.ToString()
`$r.StateWritten = Test-Path `$env:DYAD_PORTS_STATE
`$help = Get-Help Request-DyadPort -Full
`$r.ExampleCount = @(`$help.examples.example).Count
`$r.HelpText = `$help | Out-String -Width 200
Remove-DyadPortAllocation '$AppId'
Remove-Module DyadPorts
Uninstall-PSResource DyadPorts
`$r.AfterUninstall = @(Get-InstalledPSResource DyadPorts -ErrorAction SilentlyContinue).Count
`$r.FolderAfterUninstall = Test-Path (Join-Path `$r.UserModulePath 'DyadPorts')
`$r | ConvertTo-Json -Depth 3 | Set-Content '$Result'
"@
        $scriptPath = Join-Path $TempHome 'install.ps1'
        $script | Set-Content $scriptPath

        $Before = Get-UserFootprint
        $saved = @{}
        foreach ($name in @($XdgVariables.Keys) + 'PSModulePath') { $saved[$name] = [Environment]::GetEnvironmentVariable($name) }
        try {
            foreach ($name in $XdgVariables.Keys) { [Environment]::SetEnvironmentVariable($name, $XdgVariables[$name]) }
            # Unset, so the child pwsh builds PSModulePath itself from the temporary home, as a fresh login would.
            [Environment]::SetEnvironmentVariable('PSModulePath', $null)
            $Output = & $ChildPwsh @(Get-ChildPwshArgument '-NoProfile', '-NonInteractive', '-WorkingDirectory', $TempHome, '-File', $scriptPath) 2>&1
            $ExitCode = $LASTEXITCODE
        }
        finally {
            foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
        }
        $After = Get-UserFootprint
        $R = if (Test-Path $Result) { Get-Content $Result -Raw | ConvertFrom-Json } else { $null }
    }
    AfterAll {
        if ($TempHome -and (Test-Path $TempHome)) { Remove-Item $TempHome -Recurse -Force }
    }

    It 'runs to the end in the fresh pwsh' {
        $ExitCode | Should -Be 0 -Because ($Output -join "`n")
        $R | Should -Not -BeNullOrEmpty -Because ($Output -join "`n")
    }

    It 'installs with Install-PSResource into the temporary home, and Import-Module DyadPorts by name loads it from there' {
        $R.UserModulePath | Should -BeLike "$TempHome/*"
        @($R.Installed).Count | Should -Be 1
        $R.Installed[0] | Should -BeLike "$TempHome/*"
        $R.ModuleBase | Should -BeLike "$TempHome/*"
        $R.ModuleBase | Should -Not -BeLike "$(Split-Path $ModulePath)*"
        $R.Version | Should -Be $Version
    }

    It 'allocates a port against the real docker engine, with the state in the temporary folder' {
        $R.AppId | Should -Be $AppId
        $R.Engine | Should -Be 'Docker'
        $R.Port | Should -BeGreaterOrEqual 21990
        $R.Port | Should -BeLessOrEqual 21999
        $R.Status | Should -Be 'Reserved'
        $R.StateWritten | Should -BeTrue
    }

    It 'binds the ReadyToRun copies of deps/linux-x64 on linux-x64 (the package carries them), else the IL of deps/' {
        $folder = if ($R.Rid -eq 'linux-x64') { 'deps/linux-x64' } else { 'deps' }
        $R.Bound | Should -Be @("$folder/Docker.DotNet.dll", "$folder/DyadPorts.Core.dll", "$folder/Newtonsoft.Json.dll")
    }

    It 'has full help with the examples' {
        $R.ExampleCount | Should -BeGreaterOrEqual 2
        $R.HelpText | Should -Match 'EXAMPLE 1'
        $R.HelpText | Should -Match ([regex]::Escape('Request-DyadPort 57'))
    }

    It 'uninstalls with Uninstall-PSResource' {
        $R.AfterUninstall | Should -Be 0
        $R.FolderAfterUninstall | Should -BeFalse
    }

    It 'leaves the user''s module folder and PSResourceGet repository list as they were' {
        $After.Modules | Should -Be $Before.Modules
        $After.PSResourceGet | Should -Be $Before.PSResourceGet
        $After.RepositoryList | Should -Be $Before.RepositoryList
    }
}
