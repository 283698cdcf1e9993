# The module as shipped: a truthful manifest, one version, a minimal set of assemblies, and a package of exactly that folder.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $Manifest = Join-Path $ModulePath 'DyadPorts.psd1'
    $Data = Import-PowerShellDataFile $Manifest
    $Version = $Data.ModuleVersion
    $PackageDir = if ($env:DYADPORTS_PACKAGES) { $env:DYADPORTS_PACKAGES } else { Join-Path (Split-Path $ModulePath) 'packages' }
    $Nupkg = Join-Path $PackageDir "DyadPorts.$Version.nupkg"
    # Every assembly the module ships, sorted: the cmdlets and the loader beside the manifest, the rest in deps/ (IL)
    # and deps/linux-x64/ (the same, ReadyToRun).
    $Assemblies = @(
        'deps/Docker.DotNet.dll', 'deps/Docker.DotNet.X509.dll', 'deps/dotnet-etcd.dll', 'deps/DyadPorts.Core.dll', 'deps/DyadPorts.Fleet.dll',
        'deps/Google.Api.CommonProtos.dll', 'deps/Google.Protobuf.dll', 'deps/Grpc.Core.Api.dll', 'deps/Grpc.Net.Client.dll', 'deps/Grpc.Net.Common.dll',
        'deps/linux-x64/Docker.DotNet.dll', 'deps/linux-x64/Docker.DotNet.X509.dll', 'deps/linux-x64/dotnet-etcd.dll', 'deps/linux-x64/DyadPorts.Core.dll', 'deps/linux-x64/DyadPorts.Fleet.dll',
        'deps/linux-x64/Google.Api.CommonProtos.dll', 'deps/linux-x64/Google.Protobuf.dll', 'deps/linux-x64/Grpc.Core.Api.dll', 'deps/linux-x64/Grpc.Net.Client.dll', 'deps/linux-x64/Grpc.Net.Common.dll',
        'deps/linux-x64/Microsoft.Extensions.DependencyInjection.Abstractions.dll', 'deps/linux-x64/Microsoft.Extensions.DependencyInjection.dll',
        'deps/linux-x64/Microsoft.Extensions.Logging.Abstractions.dll', 'deps/linux-x64/Newtonsoft.Json.dll',
        'deps/Microsoft.Extensions.DependencyInjection.Abstractions.dll', 'deps/Microsoft.Extensions.DependencyInjection.dll',
        'deps/Microsoft.Extensions.Logging.Abstractions.dll', 'deps/Newtonsoft.Json.dll',
        'DyadPorts.dll', 'DyadPorts.Loader.dll'
    ) | Sort-Object
}

Describe 'The built manifest' {
    It 'passes Test-ModuleManifest and declares what is proven: Core edition, PowerShell 7.6+' {
        $m = Test-ModuleManifest $Manifest
        $m.PowerShellVersion | Should -Be ([version]'7.6')
        $m.CompatiblePSEditions | Should -Be @('Core')
        $Data.PrivateData.PSData.Tags | Should -Contain 'PSEdition_Core'
        $Data.PrivateData.PSData.Tags | Should -Not -Contain 'PSEdition_Desktop'
    }

    It 'links to nothing that does not exist' {
        $Data.PrivateData.PSData.Keys | Should -Not -Contain 'ProjectUri'
        $Data.PrivateData.PSData.Keys | Should -Not -Contain 'LicenseUri'
        $Data.PrivateData.PSData.Keys | Should -Not -Contain 'IconUri'
    }

    It 'takes ReleaseNotes from the CHANGELOG.md section of its ModuleVersion' {
        $changelog = Get-Content (Join-Path $RepoRoot 'CHANGELOG.md') -Raw
        $changelog | Should -Match '(?m)^## \[Unreleased\]'
        $section = [regex]::Match($changelog, '(?ms)^## \[' + [regex]::Escape($Version) + '\] - \d{4}-\d{2}-\d{2}\n(.*?)(?=^## |\z)')
        $section.Success | Should -BeTrue -Because "CHANGELOG.md needs a '## [$Version] - YYYY-MM-DD' section"
        $Data.PrivateData.PSData.ReleaseNotes | Should -Be $section.Groups[1].Value.Trim()
    }

    It 'agrees with LICENSE: MIT, and the license ships in the module' {
        $Data.Copyright | Should -Match 'MIT'
        Get-Content (Join-Path $RepoRoot 'LICENSE') -TotalCount 1 | Should -Be 'MIT License'
        Get-Content (Join-Path $ModulePath 'LICENSE') -Raw | Should -Be (Get-Content (Join-Path $RepoRoot 'LICENSE') -Raw)
    }

    It 'is the one version source: the module''s assemblies carry ModuleVersion, Directory.Build.props carries none' {
        foreach ($dll in 'DyadPorts.dll', 'DyadPorts.Loader.dll', 'deps/DyadPorts.Core.dll', 'deps/DyadPorts.Fleet.dll') {
            $path = Join-Path $ModulePath $dll
            [Reflection.AssemblyName]::GetAssemblyName($path).Version | Should -Be ([version]"$Version.0")
            (Get-Item $path).VersionInfo.ProductVersion | Should -BeLike "$Version*"
        }
        Get-Content (Join-Path $RepoRoot 'Directory.Build.props') -Raw | Should -Not -Match '<(Version|VersionPrefix|AssemblyVersion|FileVersion)>'
    }
}

Describe 'The shipped assemblies' {
    BeforeAll {
        # The names of the assemblies a built assembly references, read from its metadata (nothing is loaded).
        function Get-AssemblyReference([string] $Path) {
            $stream = [IO.File]::OpenRead($Path)
            try {
                $pe = [Reflection.PortableExecutable.PEReader]::new($stream)
                $metadata = [Reflection.Metadata.PEReaderExtensions]::GetMetadataReader($pe)
                foreach ($handle in $metadata.AssemblyReferences) { $metadata.GetString($metadata.GetAssemblyReference($handle).Name) }
            } finally { $stream.Dispose() }
        }
    }

    It 'are the cmdlets and the loader beside the manifest, the rest in deps/, and nothing pwsh or .NET has (System.*)' {
        (Get-ChildItem $ModulePath -Filter *.dll -Recurse | ForEach-Object { [IO.Path]::GetRelativePath($ModulePath, $_.FullName) -replace '\\', '/' }) |
            Sort-Object | Should -Be $Assemblies -Because 'only what sits in deps/ binds in the module''s own load context'
    }

    It 'reference, from the default context, no third-party assembly: the cmdlets only DyadPorts.Core and DyadPorts.Fleet, the loader nothing of the module' {
        # A Docker.DotNet or Newtonsoft.Json type named in DyadPorts.dll would bind in the default context, where
        # another version may be loaded already: only DyadPorts.Core (in the DyadPorts context) may carry them.
        $framework = { ($_ -like 'System.*' -and $_ -ne 'System.Management.Automation') -or $_ -in 'System', 'netstandard', 'mscorlib' }
        (Get-AssemblyReference (Join-Path $ModulePath 'DyadPorts.dll')) | Where-Object { -not (& $framework) } | Sort-Object |
            Should -Be @('DyadPorts.Core', 'DyadPorts.Fleet', 'System.Management.Automation')
        (Get-AssemblyReference (Join-Path $ModulePath 'DyadPorts.Loader.dll')) | Where-Object { -not (& $framework) } |
            Should -Be @('System.Management.Automation')
    }

    It 'are IL-only, which loads on every platform, except deps/linux-x64: the same assemblies as deps/, all ReadyToRun' {
        # A ReadyToRun image of another platform does not load at all (BadImageFormatException,
        # docs/bench/r2r-other-platform-2026-11-30.txt): only the loader's linux-x64 folder may carry native code.
        function Test-ReadyToRun([string] $Path) {
            $stream = [IO.File]::OpenRead($Path)
            try { $pe = [Reflection.PortableExecutable.PEReader]::new($stream); $pe.PEHeaders.CorHeader.ManagedNativeHeaderDirectory.Size -gt 0 }
            finally { $stream.Dispose() }
        }
        $native = Join-Path $ModulePath 'deps/linux-x64'
        foreach ($dll in Get-ChildItem $ModulePath -Filter *.dll -Recurse) {
            Test-ReadyToRun $dll.FullName | Should -Be ($dll.DirectoryName -eq $native) -Because "$($dll.FullName)"
        }
        (Get-ChildItem $native -Filter *.dll).Name | Sort-Object | Should -Be ((Get-ChildItem (Join-Path $ModulePath 'deps') -Filter *.dll).Name | Sort-Object)
        foreach ($dll in Get-ChildItem $native -Filter *.dll) {
            [Reflection.AssemblyName]::GetAssemblyName($dll.FullName).FullName |
                Should -Be ([Reflection.AssemblyName]::GetAssemblyName((Join-Path $ModulePath "deps/$($dll.Name)")).FullName)
        }
    }

    It 'target net10.0, what pwsh 7.6 runs on' {
        foreach ($dll in 'DyadPorts.dll', 'DyadPorts.Loader.dll', 'deps/DyadPorts.Core.dll', 'deps/DyadPorts.Fleet.dll') {
            $bytes = [IO.File]::ReadAllBytes((Join-Path $ModulePath $dll))
            [Text.Encoding]::UTF8.GetString($bytes) | Should -Match '\.NETCoreApp,Version=v10\.0'
        }
    }
}

Describe 'The package' {
    BeforeAll {
        if (-not (Test-Path $Nupkg)) { throw "No package at ${Nupkg}: run './build.ps1 Package' (build.ps1 Test runs it before Pester)." }
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [IO.Compression.ZipFile]::OpenRead($Nupkg)
        try { $Entries = @($zip.Entries.FullName | ForEach-Object { [Uri]::UnescapeDataString($_) }) } finally { $zip.Dispose() }
        $Content = @($Entries | Where-Object { $_ -notmatch '^(_rels/|package/|\[Content_Types\]\.xml$|DyadPorts\.nuspec$)' })
    }

    It 'is named DyadPorts.{ModuleVersion}.nupkg under out/packages' {
        Split-Path $Nupkg -Leaf | Should -Be "DyadPorts.$Version.nupkg"
    }

    It 'holds exactly the module folder: manifest, assemblies (dependencies in deps/), format file, LICENSE and en-US help' {
        $Content | Sort-Object | Should -Be (@($Assemblies) + 'DyadPorts.Format.ps1xml', 'DyadPorts.psd1', 'en-US/about_DyadPorts.help.txt', 'en-US/DyadPorts.dll-Help.xml', 'LICENSE' | Sort-Object) -Because 'the package is the module as users get it'
        $built = Get-ChildItem $ModulePath -Recurse -File | ForEach-Object { [IO.Path]::GetRelativePath($ModulePath, $_.FullName) -replace '\\', '/' }
        $Content | Sort-Object | Should -Be ($built | Sort-Object)
    }

    It 'carries no test or build leftovers' {
        $Entries | Where-Object { $_ -match '\.(pdb|deps\.json|runtimeconfig\.json|trx|cs|csproj|sln|Tests\.ps1)$|(^|/)(obj|bin|tests?|TestResults)/|System\.Management\.Automation|Microsoft\.PowerShell\.' } |
            Should -BeNullOrEmpty
    }

    It 'describes itself from the manifest: id, version, release notes, no project link' {
        $zip = [IO.Compression.ZipFile]::OpenRead($Nupkg)
        try {
            $reader = [IO.StreamReader]::new($zip.GetEntry('DyadPorts.nuspec').Open())
            try { $nuspec = [xml]$reader.ReadToEnd() } finally { $reader.Dispose() }
        } finally { $zip.Dispose() }
        $nuspec.package.metadata.id | Should -Be 'DyadPorts'
        $nuspec.package.metadata.version | Should -Be $Version
        $nuspec.package.metadata.releaseNotes | Should -Be $Data.PrivateData.PSData.ReleaseNotes
        $nuspec.package.metadata.tags | Should -Not -Match 'PSEdition_Desktop'
        $nuspec.package.metadata.PSObject.Properties.Name | Should -Not -Contain 'projectUrl'
    }
}
