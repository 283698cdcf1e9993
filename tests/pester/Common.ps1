# Shared by every Pester file: the built module, the engines, and a private state file per test.
$script:ModulePath = if ($env:DYADPORTS_MODULE) { $env:DYADPORTS_MODULE } else { Join-Path $PSScriptRoot '../../out/DyadPorts' }
$script:Pwsh = (Get-Process -Id $PID).Path
# Under the dotnet local tool, run pwsh.dll in-process with 'dotnet exec', so the pid we hold (and kill -9) is pwsh itself.
$script:PwshPrefix = @(if ((Split-Path $script:Pwsh -Leaf) -like 'dotnet*') { 'exec', (Join-Path $PSHOME 'pwsh.dll') })
$script:Engines = @(
    @{ Engine = 'Docker'; Endpoint = $(if ($env:DYADPORTS_TEST_DOCKER) { $env:DYADPORTS_TEST_DOCKER } else { 'unix:///run/docker.sock' }); Image = 'busybox:local' }
    @{ Engine = 'Podman'; Endpoint = $(if ($env:DYADPORTS_TEST_PODMAN) { $env:DYADPORTS_TEST_PODMAN } else { 'unix:///run/podman/podman.sock' }); Image = 'localhost/busybox:local' }
)

function New-TestState {
    $dir = Join-Path ([IO.Path]::GetTempPath()) ("dyadports-pester-" + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $dir | Out-Null
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
    & $script:Pwsh @script:PwshPrefix -NoProfile -NonInteractive -File (New-ChildScript $Script)
}

# A script file that imports the built module first: -File avoids every quoting pitfall of -Command.
function New-ChildScript {
    param([string] $Script)
    $path = Join-Path ([IO.Path]::GetTempPath()) ("dyadports-child-" + [guid]::NewGuid().ToString('N') + '.ps1')
    "`$ErrorActionPreference = 'Stop'`nImport-Module '$script:ModulePath'`n$Script" | Set-Content -Path $path
    $path
}

function Start-ChildPwsh {
    param([string] $Script, [string] $StandardOutput, [string] $StandardError)
    $arguments = @($script:PwshPrefix) + @('-NoProfile', '-NonInteractive', '-File', (New-ChildScript $Script))
    $redirect = @{}
    if ($StandardOutput) { $redirect.RedirectStandardOutput = $StandardOutput }
    if ($StandardError) { $redirect.RedirectStandardError = $StandardError }
    Start-Process -FilePath $script:Pwsh -ArgumentList $arguments -PassThru -NoNewWindow @redirect
}

function Assert-EngineAnswers {
    param([string] $Endpoint)
    $path = $Endpoint -replace '^unix://', ''
    if (-not (Test-Path $path)) {
        throw "ENGINE MISSING: nothing at $Endpoint. Run 'sudo bash tools/setup-engines.sh'. With CI=true this is a failure, never a skip."
    }
}

# The docker/podman CLI view of the bindings, as the seed's "Verify Port Allocation" step reads it.
function Get-CliPorts {
    param([string] $Engine, [string] $Endpoint, [string] $Name)
    $cli = @(if ($Engine -eq 'Docker') { 'docker', '-H', $Endpoint } else { 'podman' })
    & $cli[0] @($cli | Select-Object -Skip 1) ps -a --filter "name=^$Name`$" --format '{{.Ports}}'
}

function Remove-TestContainers {
    param([string] $Engine, [string] $Endpoint)
    $cli = @(if ($Engine -eq 'Docker') { 'docker', '-H', $Endpoint } else { 'podman' })
    $ids = & $cli[0] @($cli | Select-Object -Skip 1) ps -aq --filter 'label=dyadports.managed' 2>$null
    $ids += & $cli[0] @($cli | Select-Object -Skip 1) ps -aq --filter 'label=dyadports.test' 2>$null
    if ($ids) { & $cli[0] @($cli | Select-Object -Skip 1) rm -f @($ids) *> $null }
}
