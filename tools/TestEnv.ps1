# The test environment, read from the one table (tools/test-engines.env; the environment wins over its lines).
# Dot-sourced by build.ps1, tests/pester/Common.ps1, bench/Invoke-Bench.ps1 and tools/Demo.ps1.
#   $TestEnv      - Docker, Podman (endpoints), State (directory), ContainersConf, Image, RunId, Prefix, RunLabel,
#                   Etcd (the shared cluster's host:port list), EtcdTls, EtcdAuth (host:port), EtcdBin (etcd, etcdctl)
#   $TestEngines  - one row per engine: Engine, Endpoint, Image
#   Invoke-EngineCli Docker|Podman <args>  - the engine's CLI: docker -H <test endpoint>; podman as a local client
#                   (CONTAINER_HOST unset for the call) with the project's CONTAINERS_CONF, so the containers it
#                   creates run whatever /etc/containers/containers.conf says or lacks
#   Get-CoreType <full name> - a DyadPorts.Core type no accelerator names, from the imported module's assembly

$script:TestCliConf = $null   # set by tests that use a temporary CLI configuration (tests/pester/Common.ps1)

function Read-TestEngineTable {
    $table = [ordered]@{}
    foreach ($line in Get-Content (Join-Path $PSScriptRoot 'test-engines.env')) {
        if ($line -match '^([A-Z_][A-Z0-9_]*)=(.*)$') {
            $value = [Environment]::GetEnvironmentVariable($Matches[1])
            $table[$Matches[1]] = if ($value) { $value } else { $Matches[2] }
        }
    }
    $table
}

# The per-run id: DYADPORTS_TEST_RUN (build.ps1 sets a fresh guid per run), else one for this process.
# The prefix is derived from it the same way in C# (TestRun.Prefix): 't' + 6 hex of SHA-256(id) + '-'.
function Get-TestRunPrefix([string] $Id) {
    $hash = [Security.Cryptography.SHA256]::HashData([Text.Encoding]::UTF8.GetBytes($Id))
    't' + [Convert]::ToHexString($hash).Substring(0, 6).ToLowerInvariant() + '-'
}

$script:TestEnv = & {
    $t = Read-TestEngineTable
    $state = $t['DYADPORTS_TEST_STATE']
    $imageFile = Join-Path $state 'image'
    $image = if ($env:DYADPORTS_TEST_IMAGE) { $env:DYADPORTS_TEST_IMAGE } elseif (Test-Path $imageFile) { (Get-Content $imageFile -TotalCount 1).Trim() } else { $null }
    $runId = if ($env:DYADPORTS_TEST_RUN) { $env:DYADPORTS_TEST_RUN } else { [guid]::NewGuid().ToString('N') }
    [pscustomobject]@{
        Docker = $t['DYADPORTS_TEST_DOCKER']
        Podman = $t['DYADPORTS_TEST_PODMAN']
        State = $state
        ContainersConf = Join-Path $state 'containers.conf'
        Image = $image
        RunId = $runId
        # Every temporary file and folder of this run's tests (tests/DyadPorts.Tests/Support/TestRun.cs: TempRoot).
        TempRoot = [IO.Path]::Combine([IO.Path]::GetTempPath(), 'dyadports-tests', $runId)
        Prefix = Get-TestRunPrefix $runId
        RunLabel = 'dyadports.test-run'
        Etcd = $t['DYADPORTS_TEST_ETCD']
        EtcdTls = $t['DYADPORTS_TEST_ETCD_TLS']
        EtcdAuth = $t['DYADPORTS_TEST_ETCD_AUTH']
        EtcdBin = $t['DYADPORTS_TEST_ETCD_BIN']
    }
}
$script:TestEngines = @(
    @{ Engine = 'Docker'; Endpoint = $TestEnv.Docker; Image = $TestEnv.Image }
    @{ Engine = 'Podman'; Endpoint = $TestEnv.Podman; Image = $TestEnv.Image }
)

# Exports the table to child processes (xunit, Pester, bench children) as environment variables.
function Set-TestEnvironment {
    $env:DYADPORTS_TEST_DOCKER = $TestEnv.Docker
    $env:DYADPORTS_TEST_PODMAN = $TestEnv.Podman
    $env:DYADPORTS_TEST_STATE = $TestEnv.State
    $env:DYADPORTS_TEST_RUN = $TestEnv.RunId
    $env:DYADPORTS_TEST_ETCD = $TestEnv.Etcd
    $env:DYADPORTS_TEST_ETCD_TLS = $TestEnv.EtcdTls
    $env:DYADPORTS_TEST_ETCD_AUTH = $TestEnv.EtcdAuth
    $env:DYADPORTS_TEST_ETCD_BIN = $TestEnv.EtcdBin
    if ($TestEnv.Image) { $env:DYADPORTS_TEST_IMAGE = $TestEnv.Image }
}

# A public type of DyadPorts.Core that is not one a script names (DyadPorts.Core.ScriptTypes): the loader publishes no
# accelerator for it, so it is taken from the module's own assembly, as a script would.
function Get-CoreType([string] $Name) { [DyadPorts.PortAllocation].Assembly.GetType($Name, $true) }

# A simple function (no param block), so that '-aq', '--filter' and the like pass through as the CLI's arguments.
function Invoke-EngineCli {
    $engine, $arguments = $args[0], @($args | Select-Object -Skip 1)
    if ($engine -eq 'Docker') { return & docker -H $TestEnv.Docker @arguments }
    if ($engine -ne 'Podman') { throw "Invoke-EngineCli: unknown engine '$engine'" }
    $saved = $env:CONTAINERS_CONF, $env:CONTAINER_HOST
    $env:CONTAINERS_CONF = if ($script:TestCliConf) { $script:TestCliConf } else { $TestEnv.ContainersConf }   # a test's temporary one, else the project's
    Remove-Item Env:CONTAINER_HOST -ErrorAction SilentlyContinue
    try { & podman @arguments } finally { $env:CONTAINERS_CONF, $env:CONTAINER_HOST = $saved }
}
