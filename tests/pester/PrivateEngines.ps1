# Private engines for fault tests: started and stopped by this run, by pid, never anything else.
#   podman: a second 'podman system service' on a private socket over the same storage, cwd '/', reading the
#           project's CONTAINERS_CONF, or one the run wrote (Start-PrivateEngine -ContainersConf).
#   docker: a private dockerd with its own --data-root, --exec-root (and so its own containerd), --pidfile, socket
#           and --config-file, --bridge=none, --iptables=false, --ip-forward=false, in a network namespace of its
#           own (unshare --net): with --bridge=none dockerd deletes the host's 'docker0' bridge, which would break
#           the user's dockerd, so it must not see the host's interfaces.
# Root only (both need it); the state directory of the one table holds their files.

function Test-SocketAnswers([string] $Socket) {
    & curl -sf --max-time 2 --unix-socket $Socket http://d/_ping *> $null
    $LASTEXITCODE -eq 0
}

function New-PrivateEngine {
    param([ValidateSet('Docker', 'Podman')] [string] $Engine)
    $short = $Prefix.TrimEnd('-') + $Engine.Substring(0, 1).ToLowerInvariant()   # socket paths stay well under 108 bytes
    $dir = Join-Path $TestEnv.State "private/$short"
    $run = "/run/dyadports-test/$short"
    New-Item -ItemType Directory -Force -Path $dir, $run | Out-Null
    $sock = Join-Path $run "$($Engine.ToLowerInvariant()).sock"
    @{ Engine = $Engine; Directory = $dir; RunDirectory = $run; Socket = $sock; Endpoint = "unix://$sock"; Pid = $null }
}

# Starts (or restarts) the private engine and waits until it answers; records its pid. A private podman reads
# -ContainersConf if given (one this run wrote), the project's otherwise.
function Start-PrivateEngine {
    param([hashtable] $Private, [string] $ContainersConf = $TestEnv.ContainersConf)
    $log = Join-Path $Private.Directory 'engine.log'
    $saved = $env:CONTAINERS_CONF, $env:CONTAINER_HOST, $env:DOCKER_HOST
    try {
        Remove-Item Env:CONTAINER_HOST, Env:DOCKER_HOST -ErrorAction SilentlyContinue
        if ($Private.Engine -eq 'Podman') {
            $env:CONTAINERS_CONF = $ContainersConf
            $process = Start-Process -FilePath podman -ArgumentList 'system', 'service', '--time=0', $Private.Endpoint `
                -WorkingDirectory / -RedirectStandardOutput "$log.out" -RedirectStandardError $log -PassThru
        } else {
            $config = Join-Path $Private.Directory 'daemon.json'
            '{}' | Set-Content $config
            $arguments = @('--net', 'dockerd', '--host', $Private.Endpoint, '--data-root', (Join-Path $Private.Directory 'data'),
                '--exec-root', (Join-Path $Private.RunDirectory 'exec'), '--pidfile', (Join-Path $Private.RunDirectory 'dockerd.pid'),
                '--config-file', $config, '--bridge=none', '--iptables=false', '--ip-forward=false')
            # unshare execs dockerd without forking: the pid Start-Process returns is dockerd's.
            $process = Start-Process -FilePath unshare -ArgumentList $arguments -WorkingDirectory / `
                -RedirectStandardOutput "$log.out" -RedirectStandardError $log -PassThru
        }
    } finally {
        $env:CONTAINERS_CONF, $env:CONTAINER_HOST, $env:DOCKER_HOST = $saved
    }
    $Private.Pid = $process.Id
    $deadline = [DateTime]::UtcNow.AddSeconds(60)
    while (-not (Test-SocketAnswers $Private.Socket)) {
        if ($process.HasExited) { throw "private $($Private.Engine) exited with $($process.ExitCode): $(Get-Content $log -Tail 5 -ErrorAction SilentlyContinue)" }
        if ([DateTime]::UtcNow -gt $deadline) { throw "private $($Private.Engine) did not answer at $($Private.Endpoint) within 60 s" }
        Start-Sleep -Milliseconds 200
    }
}

function Wait-PidExit([int] $ProcessId, [int] $Seconds) {
    $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
    while ((Test-Path "/proc/$ProcessId") -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
    -not (Test-Path "/proc/$ProcessId")
}

# Stops the private engine by the pid this run recorded (SIGTERM, then SIGKILL after 30 s), and the private
# dockerd's own containerd by the pid file under its exec-root; then the engine does not answer.
function Stop-PrivateEngine {
    param([hashtable] $Private)
    if ($Private.Pid -and (Test-Path "/proc/$($Private.Pid)")) {
        & kill -TERM $Private.Pid
        if (-not (Wait-PidExit $Private.Pid 30)) { & kill -KILL $Private.Pid; $null = Wait-PidExit $Private.Pid 5 }
    }
    $containerd = Join-Path $Private.RunDirectory 'exec/containerd/containerd.pid'
    if ($Private.Engine -eq 'Docker' -and (Test-Path $containerd)) {
        $child = [int](Get-Content $containerd -TotalCount 1)
        $cmdline = Get-Content "/proc/$child/cmdline" -Raw -ErrorAction SilentlyContinue
        if ($cmdline -and $cmdline.Contains($Private.RunDirectory)) { & kill -TERM $child; $null = Wait-PidExit $child 10 }
    }
    $Private.Pid = $null
}

# After the tests: stopped, and its files gone (never below a mount point that is still mounted).
function Remove-PrivateEngine {
    param([hashtable] $Private)
    Stop-PrivateEngine $Private
    $mounted = Get-Content /proc/mounts | Where-Object { ($_ -split ' ')[1] -like "$($Private.Directory)*" -or ($_ -split ' ')[1] -like "$($Private.RunDirectory)*" }
    if ($mounted) { Write-Warning "left $($Private.Directory) in place: still mounted: $mounted"; return }
    Remove-Item $Private.Directory, $Private.RunDirectory -Recurse -Force -ErrorAction SilentlyContinue
}
