# Shared by every Pester file: the built module, the engines and image of the one table (tools/TestEnv.ps1),
# this run's id and AppId prefix, and a private state file per test.
# Isolation rules: every container a test creates carries dyadports.test-run=<RunId>, every AppId starts with
# $Prefix, and Remove-TestContainers removes nothing else. Ports 22000-22999 (never the default 32100-32200).
$script:ModulePath = if ($env:DYADPORTS_MODULE) { $env:DYADPORTS_MODULE } else { Join-Path $PSScriptRoot '../../out/DyadPorts' }
. (Join-Path $PSScriptRoot '../../tools/ChildPwsh.ps1')
. (Join-Path $PSScriptRoot '../../tools/TestEnv.ps1')
$script:Prefix = $TestEnv.Prefix
$script:RunLabel = "$($TestEnv.RunLabel)=$($TestEnv.RunId)"
$script:Engines = $TestEngines

# A new folder in this run's temporary folder ($TestEnv.TempRoot, which build.ps1 removes when the run ends and the
# next run's reap when it was killed): <kind>-<16 hex digits>.
function New-TestFolder([string] $Kind) {
    (New-Item -ItemType Directory -Path (Join-Path $TestEnv.TempRoot ("$Kind-" + [guid]::NewGuid().ToString('N').Substring(0, 16)))).FullName
}

function New-TestState {
    $dir = New-TestFolder 'pester'
    $env:DYAD_PORTS_STATE = Join-Path $dir 'state.json'
    $env:DYAD_PORTS_STATE
}

function Read-TestState {
    if (-not (Test-Path $env:DYAD_PORTS_STATE)) { return @{} }
    (Get-Content $env:DYAD_PORTS_STATE -Raw | ConvertFrom-Json -AsHashtable).allocations
}

# Runs a script in a fresh pwsh that imports the built module; returns its output lines.
function Invoke-ChildPwsh {
    param([string] $Script)
    & $ChildPwsh @(Get-ChildPwshArgument '-NoProfile', '-NonInteractive', '-File', (New-ChildScript $Script))
}

# A script file that imports the built module first: -File avoids every quoting pitfall of -Command.
function New-ChildScript {
    param([string] $Script)
    $null = New-Item -ItemType Directory -Force -Path $TestEnv.TempRoot
    $path = Join-Path $TestEnv.TempRoot ("child-" + [guid]::NewGuid().ToString('N') + '.ps1')
    "`$ErrorActionPreference = 'Stop'`nImport-Module '$script:ModulePath'`n$Script" | Set-Content -Path $path
    $path
}

function Start-ChildPwsh {
    param([string] $Script, [string] $StandardOutput, [string] $StandardError)
    $arguments = Get-ChildPwshArgument '-NoProfile', '-NonInteractive', '-File', (New-ChildScript $Script)
    $redirect = @{}
    if ($StandardOutput) { $redirect.RedirectStandardOutput = $StandardOutput }
    if ($StandardError) { $redirect.RedirectStandardError = $StandardError }
    $child = Start-Process -FilePath $ChildPwsh -ArgumentList $arguments -PassThru -NoNewWindow @redirect
    $child | Add-Member -NotePropertyName StartTicks -NotePropertyValue (Get-ProcessStartTicks $child.Id) -PassThru
}

# The start time of a running process in clock ticks since boot (field 22 of /proc/PID/stat); $null when there is none.
function Get-ProcessStartTicks([int] $Id) {
    $stat = Get-Content -LiteralPath "/proc/$Id/stat" -Raw -ErrorAction SilentlyContinue
    if (-not $stat) { return $null }
    $fields = $stat.Substring($stat.LastIndexOf(')') + 2).Split(' ')   # after the name, which may hold spaces
    if ($fields.Count -gt 19) { $fields[19] }
}

# What a .NET process keeps in the temporary folder while it runs, which only a normal exit removes: the debugger's
# pipes, the diagnostics socket and PowerShell's host pipe. Removed for a child this run stopped with a signal, by its
# pid and start time, once no process has that pid (tests/DyadPorts.Tests/Support/ProcessLeftovers.cs, for xunit).
function Remove-ProcessLeftovers([int] $Id, [string] $StartTicks) {
    if (-not $StartTicks -or (Test-Path -LiteralPath "/proc/$Id")) { return }
    $temp = [IO.Path]::GetTempPath()
    foreach ($name in "clr-debug-pipe-$Id-$StartTicks-in", "clr-debug-pipe-$Id-$StartTicks-out", "dotnet-diagnostic-$Id-$StartTicks-socket") {
        Remove-Item -LiteralPath (Join-Path $temp $name) -Force -ErrorAction SilentlyContinue
    }
    Get-ChildItem -LiteralPath $temp -Filter "CoreFxPipe_PSHost.*.$Id.None.*" -ErrorAction SilentlyContinue | Remove-Item -Force -ErrorAction SilentlyContinue
}

# Stops a child of Start-ChildPwsh (this test's own, by its pid) with a signal, waits for it, and removes what it left
# (Remove-ProcessLeftovers). True when it ended within the wait.
function Stop-ChildPwsh($Child, [ValidateSet('KILL', 'TERM')] [string] $Signal = 'KILL', [int] $WaitSeconds = 20) {
    if (-not $Child.HasExited) { & kill "-$Signal" $Child.Id }
    if (-not $Child.WaitForExit($WaitSeconds * 1000)) { return $false }
    $Child.WaitForExit()   # the redirected output is drained
    Remove-ProcessLeftovers $Child.Id $Child.StartTicks
    $true
}

function Assert-EngineAnswers {
    param([string] $Endpoint)
    $path = $Endpoint -replace '^unix://', ''
    if (-not (Test-Path $path)) {
        throw "ENGINE MISSING: nothing at $Endpoint. Run 'sudo bash tools/setup-engines.sh'. With CI=true this is a failure, never a skip."
    }
    if (-not $TestEnv.Image) { throw "TEST IMAGE MISSING: run 'sudo bash tools/setup-engines.sh' (it writes $($TestEnv.State)/image) or set DYADPORTS_TEST_IMAGE." }
}

# The docker/podman CLI view of the bindings, as the seed's "Verify Port Allocation" step reads it.
function Get-CliPorts {
    param([string] $Engine, [string] $Endpoint, [string] $Name)
    Invoke-EngineCli $Engine ps -a --filter "name=^$Name`$" --format '{{.Ports}}'
}

# Creates (and starts) a container of this run: it carries the run label, so cleanup finds it and nothing else.
function New-TestContainer {
    param([string] $Engine, [string] $Name, [int] $Port, [switch] $NoStart, [string[]] $Label)
    $verb = @(if ($NoStart) { 'create' } else { 'run', '-d' })
    $labels = @('--label', $RunLabel) + @($Label | Where-Object { $_ } | ForEach-Object { '--label', $_ })
    $id = Invoke-EngineCli $Engine @verb --name $Name @labels -p "${Port}:${Port}" $TestEnv.Image httpd -f -p $Port -h /www
    if ($LASTEXITCODE -ne 0) { throw "$Engine could not create the test container $Name on port $Port (exit $LASTEXITCODE)" }
    Wait-EngineView $Engine
    $id
}

# With the engine feed on (DYAD_PORTS_ENGINE_FEED, on by default), this session's live view of the engine's endpoint
# learns of a change another client made (the CLI here, a child pwsh) from the engine's events, within its freshness
# bound. A test that changed containers that way waits here until the view shows this run's containers as the CLI
# lists them, and fails if it still answers otherwise 3x that bound after the change: the freshness the view promises,
# checked after each change (a view that does not answer by then, being behind, passes: its callers list).
function Wait-EngineView {
    param([string] $Engine)
    $session = ('DyadPorts.Infrastructure.ModuleSession' -as [type])
    if (-not $session -or $env:DYAD_PORTS_ENGINE_FEED -eq 'off') { return }
    $view = $session::Current.Views.For($TestEnv.$Engine)
    if (-not $view -or -not $view.IsLive) { return }
    $bound = [TimeSpan]::FromTicks((Get-CoreType 'DyadPorts.Core.Engines.ViewTiming')::FreshnessBound.Ticks * 3)
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $truth = $null; $seen = $null
    while ($true) {
        if ($null -eq $truth -or $clock.ElapsedMilliseconds % 200 -lt 20) { $truth = (@(Invoke-EngineCli $Engine ps -aq --no-trunc --filter "label=$RunLabel" 2>$null) | Sort-Object) -join ',' }
        $snapshot = $view.TryRead([Threading.CancellationToken]::None)
        if ($snapshot) {
            $seen = (@($snapshot.Containers | Where-Object { $_.Labels.ContainsKey($TestEnv.RunLabel) -and $_.Labels[$TestEnv.RunLabel] -eq $TestEnv.RunId } | ForEach-Object Id) | Sort-Object) -join ','
            if ($seen -eq $truth) { return }
        }
        # At the bound a view that does not answer (behind, or not live) keeps its promise: its callers list.
        if ($clock.Elapsed -gt $bound) {
            if (-not $snapshot) { return }
            throw "The engine view of $($TestEnv.$Engine) still answers without this run's containers as the engine has them $($bound.TotalMilliseconds) ms after a change: CLI [$truth], view [$seen]"
        }
        Start-Sleep -Milliseconds 10
    }
}

# Removes what this run created: its run label, or a DyadPorts preview (dyadports.managed=true) of one of this
# run's AppIds. A labelled container the run did not create (a user's preview) is never touched.
function Remove-TestContainers {
    param([string] $Engine, [string] $Endpoint)
    $ids = @(Invoke-EngineCli $Engine ps -aq --filter "label=$RunLabel" 2>$null)
    $appId = if ($Engine -eq 'Docker') { '{{.Label "dyadports.app-id"}}' } else { '{{index .Labels "dyadports.app-id"}}' }
    $managed = Invoke-EngineCli $Engine ps -a --filter 'label=dyadports.managed=true' --format "{{.ID}} $appId" 2>$null
    $ids += @($managed | Where-Object { ($_ -split ' ', 2)[1] -like "$Prefix*" } | ForEach-Object { ($_ -split ' ', 2)[0] })
    if ($ids) { Invoke-EngineCli $Engine rm -f @($ids | Sort-Object -Unique) *> $null }
    Wait-EngineView $Engine
}

# Runs a script block with a temporary HOME, DOCKER_CONFIG and CONTAINERS_CONF: for tests that touch CLI
# configuration (docker contexts, podman connections). As root, 'podman system connection add' would otherwise
# rewrite /etc/containers/containers.conf.
function Invoke-WithTempCliConfig {
    param([scriptblock] $ScriptBlock)
    $dir = New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) ("dyadports-cli-" + [guid]::NewGuid().ToString('N')))
    $saved = $env:HOME, $env:DOCKER_CONFIG, $env:CONTAINERS_CONF, $script:TestCliConf
    try {
        $env:HOME = $dir.FullName
        $env:DOCKER_CONFIG = Join-Path $dir.FullName '.docker'
        $env:CONTAINERS_CONF = $script:TestCliConf = Join-Path $dir.FullName 'containers.conf'   # Invoke-EngineCli uses it too
        Copy-Item $TestEnv.ContainersConf $env:CONTAINERS_CONF -ErrorAction SilentlyContinue
        & $ScriptBlock
    } finally {
        $env:HOME, $env:DOCKER_CONFIG, $env:CONTAINERS_CONF, $script:TestCliConf = $saved
        Remove-Item $dir -Recurse -Force -ErrorAction SilentlyContinue
    }
}

# etcdctl against one of the test etcd members (v3 API): the shared cluster, the TLS member with the client certificate,
# the auth member as root (tools/test-engines.env; material in $TestEnv.State/etcd). The root password goes in etcdctl's
# environment (ETCDCTL_USER) for the one call, never on its command line, which ps shows.
function Invoke-Etcdctl {
    param([ValidateSet('Shared', 'Tls', 'Auth')] [string] $Member, [string[]] $Arguments)
    $tls = Join-Path $TestEnv.State 'etcd/tls'
    $connection = switch ($Member) {
        'Shared' { @('--endpoints', $TestEnv.Etcd) }
        'Tls' { @('--endpoints', "https://$($TestEnv.EtcdTls)", '--cacert', "$tls/ca.pem", '--cert', "$tls/client.pem", '--key', "$tls/client-key.pem") }
        'Auth' { @('--endpoints', $TestEnv.EtcdAuth) }
    }
    $env:ETCDCTL_API = '3'
    if ($Member -eq 'Auth') { $env:ETCDCTL_USER = "root:$((Get-Content (Join-Path $TestEnv.State 'etcd/auth/root.password') -Raw).Trim())" }
    try { & (Join-Path $TestEnv.EtcdBin 'etcdctl') @connection @Arguments }
    finally { Remove-Item Env:ETCDCTL_USER -ErrorAction SilentlyContinue }
}
