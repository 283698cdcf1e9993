# Issue 17 item 9: a pwsh that loaded an older Google.Protobuf (3.25.1) and Grpc.Net.Client (2.55.0) first still uses an
# etcd state through DyadPorts, whose own copies bind in the DyadPorts context. Grpc.Net.Client's assembly version is
# 2.0.0.0 in every release, so the two copies are told apart by where they were loaded from, not by version: in one
# load context, the module would silently bind to the older one. tests/DyadPorts.Tests downloads the old packages
# (PackageDownload; run 'dotnet restore DyadPorts.sln'). And a command on a file state loads nothing of the fleet.
# The etcd state is the shared test cluster (tools/setup-etcd.sh), under /dyadports-test/<run id>/, deleted after.
# Ports 24690-24699.
BeforeDiscovery { . (Join-Path $PSScriptRoot 'Common.ps1') }
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')

    function Get-TestEtcdEndpoint {
        if (-not $TestEnv.Etcd) { throw "ETCD MISSING: tools/test-engines.env names no cluster (DYADPORTS_TEST_ETCD); run 'sudo bash tools/setup-etcd.sh'." }
        $TestEnv.Etcd
    }

    function Get-RestoredFile {
        param([string] $RelativePath)
        $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
        $path = Join-Path $packages $RelativePath
        if (-not (Test-Path $path)) { throw "$path was not restored: run 'dotnet restore DyadPorts.sln' (tests/DyadPorts.Tests downloads it)." }
        $path
    }

    $script:OldProtobuf = Get-RestoredFile 'google.protobuf/3.25.1/lib/net5.0/Google.Protobuf.dll'
    $script:OldGrpc = Get-RestoredFile 'grpc.net.client/2.55.0/lib/net7.0/Grpc.Net.Client.dll'
    $script:Deps = Join-Path $ModulePath 'deps'
    # Where the loader binds them from: the ReadyToRun copies on linux-x64 (build.ps1), the IL copies elsewhere.
    $script:Bound = if ([System.Runtime.InteropServices.RuntimeInformation]::RuntimeIdentifier -eq 'linux-x64') { Join-Path $Deps 'linux-x64' } else { $Deps }
}

Describe 'An older Google.Protobuf and Grpc.Net.Client already loaded' {
    It 'uses an etcd state, with DyadPorts.Fleet, its Protobuf and its Grpc.Net.Client in the DyadPorts context' {
        Test-Path (Join-Path $Deps 'DyadPorts.Fleet.dll') | Should -BeTrue -Because 'the fleet ships in deps/'
        $etcdPrefix = "/dyadports-test/$($TestEnv.RunId)/isolation"
        $state = "etcd://$(Get-TestEtcdEndpoint)$etcdPrefix"
        $script = New-Item -ItemType File (Join-Path ([IO.Path]::GetTempPath()) ("dyadports-child-" + [guid]::NewGuid().ToString('N') + '.ps1'))
        @"
`$ErrorActionPreference = 'Stop'
`$protobuf = [Reflection.Assembly]::LoadFrom('$OldProtobuf')
`$grpc = [Reflection.Assembly]::LoadFrom('$OldGrpc')
Import-Module '$ModulePath'
`$env:DYAD_PORTS_STATE = '$state'
`$allocation = Request-DyadPort '${Prefix}iso-etcd' -Engine Process -PortRange 24690-24694
`$listed = (Get-DyadPortAllocation '${Prefix}iso-etcd').Port
Remove-DyadPortAllocation '${Prefix}iso-etcd'
[pscustomobject]@{
    Port = `$allocation.Port
    Listed = `$listed
    Loaded = @([AppDomain]::CurrentDomain.GetAssemblies() |
        Where-Object { `$_.GetName().Name -in 'Google.Protobuf', 'Grpc.Net.Client', 'DyadPorts.Fleet' } |
        ForEach-Object { '{0} {1} {2} {3}' -f `$_.GetName().Name, `$_.GetName().Version, [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext(`$_).Name, `$_.Location } |
        Sort-Object)
} | ConvertTo-Json -Compress
"@ | Set-Content $script
        try {
            $out = @(& $ChildPwsh @(Get-ChildPwshArgument '-NoProfile', '-NonInteractive', '-File', $script.FullName) 2>&1)
            $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
        } finally {
            Remove-Item $script -ErrorAction SilentlyContinue
            $env:ETCDCTL_API = '3'
            & (Join-Path $TestEnv.EtcdBin 'etcdctl') --endpoints (Get-TestEtcdEndpoint) del --prefix "$etcdPrefix/" | Out-Null
        }
        $result = $out[-1] | ConvertFrom-Json

        $result.Port | Should -BeIn (24690..24694)
        $result.Listed | Should -Be $result.Port
        $result.Loaded | Should -Contain "Google.Protobuf 3.25.1.0 Default $OldProtobuf" -Because 'what was loaded first stays, untouched'
        $result.Loaded | Should -Contain "Grpc.Net.Client 2.0.0.0 Default $OldGrpc"
        $result.Loaded | Where-Object { $_ -like "Google.Protobuf * DyadPorts $Bound/Google.Protobuf.dll" } | Should -Not -BeNullOrEmpty
        $result.Loaded | Where-Object { $_ -like "Grpc.Net.Client 2.0.0.0 DyadPorts $Bound/Grpc.Net.Client.dll" } | Should -Not -BeNullOrEmpty
        $result.Loaded | Where-Object { $_ -like "DyadPorts.Fleet * DyadPorts $Bound/DyadPorts.Fleet.dll" } | Should -Not -BeNullOrEmpty
    }
}

Describe 'A command on a file state' {
    It 'loads neither DyadPorts.Fleet nor gRPC nor Protobuf' {
        $state = New-TestState
        $script = New-Item -ItemType File (Join-Path ([IO.Path]::GetTempPath()) ("dyadports-child-" + [guid]::NewGuid().ToString('N') + '.ps1'))
        @"
`$ErrorActionPreference = 'Stop'
Import-Module '$ModulePath'
`$env:DYAD_PORTS_STATE = '$state'
`$port = (Request-DyadPort '${Prefix}iso-file' -Engine Process -PortRange 24695-24699).Port
`$listed = (Get-DyadPortAllocation '${Prefix}iso-file').Port
`$history = @(Get-DyadPortHistory '${Prefix}iso-file').Count
Remove-DyadPortAllocation '${Prefix}iso-file'
[pscustomobject]@{
    Port = `$port; Listed = `$listed; History = `$history
    Loaded = @([AppDomain]::CurrentDomain.GetAssemblies() | ForEach-Object { `$_.GetName().Name } |
        Where-Object { `$_ -eq 'DyadPorts.Fleet' -or `$_ -eq 'dotnet-etcd' -or `$_ -like 'Grpc.*' -or `$_ -like 'Google.*' } | Sort-Object)
} | ConvertTo-Json -Compress
"@ | Set-Content $script
        try {
            $out = @(& $ChildPwsh @(Get-ChildPwshArgument '-NoProfile', '-NonInteractive', '-File', $script.FullName) 2>&1)
            $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
        } finally { Remove-Item $script -ErrorAction SilentlyContinue }
        $result = $out[-1] | ConvertFrom-Json
        $result.Port | Should -Be 24695
        $result.Listed | Should -Be 24695
        $result.History | Should -BeGreaterThan 0
        @($result.Loaded) | Should -BeNullOrEmpty -Because 'the fleet loads only for an etcd state'
    }
}
