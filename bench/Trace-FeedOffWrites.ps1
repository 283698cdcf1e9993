<#
.SYNOPSIS
    What a warm feed-off Request-DyadPort spends in its durable writes, against one list, on docker with K=60 created
    containers (issue 18: the feed-off / list ratio of bench section 7).
.DESCRIPTION
    First runs bench/Measure-FeedOffParts.ps1 (medians of the floor list, the module's list and a feed-off request,
    interleaved, untraced). Then runs bench/FeedOffLoop.ps1 under strace, tracing only openat, fsync and rename
    (--seccomp-bpf: no other system call stops), and, for the requests of its timed window (after it writes its ready
    file, until it writes its done file), prints the medians of what strace -T saw each take: the fsync of the state's temporary file, its rename over
    the state, the fsync of the history's append, and their sum per request. Each traced call carries a few tens of
    microseconds of tracing. Removes the trace; the loops remove their containers by their run's label.
.EXAMPLE
    dotnet pwsh -NoProfile -File bench/Trace-FeedOffWrites.ps1 > docs/bench/feed-off-writes-<date>.txt
#>
param([int] $K = 60, [int] $Runs = 60, [int] $Seconds = 10)
$ErrorActionPreference = 'Stop'
Set-Location (Join-Path $PSScriptRoot '..')
. ./bench/Median.ps1
$work = Join-Path ([IO.Path]::GetTempPath()) "dyadports-feed-off-writes-$([guid]::NewGuid().ToString('N'))"
$null = New-Item -ItemType Directory -Path $work
try {
    "# feed-off durable writes, $(Get-Date -Format o); commit $(git rev-parse --short HEAD); $([Environment]::ProcessorCount) cores; K=$K; load $((Get-Content /proc/loadavg -Raw).Trim())"
    "# filesystem of the state's folder: $((& findmnt -no FSTYPE -T ([IO.Path]::GetTempPath())))"
    "## untraced: bench/Measure-FeedOffParts.ps1 -K $K -Runs $Runs"
    & dotnet pwsh -NoProfile -File bench/Measure-FeedOffParts.ps1 -K $K -Runs $Runs
    if ($LASTEXITCODE -ne 0) { throw "Measure-FeedOffParts exited with $LASTEXITCODE" }

    $ready = Join-Path $work 'ready'
    $done = Join-Path $work 'done'
    $trace = Join-Path $work 'strace.txt'
    "## traced: strace -f -y --seccomp-bpf -T -e trace=openat,fsync,rename,renameat,renameat2 bench/FeedOffLoop.ps1 -K $K -Seconds $Seconds"
    & strace -f -y --seccomp-bpf -T -e trace=openat,fsync,rename,renameat,renameat2 -o $trace dotnet pwsh -NoProfile -File bench/FeedOffLoop.ps1 -K $K -Seconds $Seconds -Ready $ready -Done $done
    if ($LASTEXITCODE -ne 0) { throw "FeedOffLoop exited with $LASTEXITCODE" }

    # strace -y names each descriptor's file: fsync(7</path/.state.json.x.tmp>). A call another thread interrupted is
    # written in two lines (<unfinished ...> and <... fsync resumed>): joined per thread before reading.
    $pending = @{}; $inWindow = $false
    $stateFsync = [Collections.Generic.List[double]]::new(); $renames = [Collections.Generic.List[double]]::new(); $historyFsync = [Collections.Generic.List[double]]::new()
    $perRequest = [Collections.Generic.List[double]]::new(); $current = 0.0
    foreach ($raw in [IO.File]::ReadLines($trace)) {
        $line = $raw
        if ($line -match '^(\d+)\s+(.*) <unfinished \.\.\.>$') { $pending[$Matches[1]] = $Matches[2]; continue }
        if ($line -match '^(\d+)\s+<\.\.\. \w+ resumed>(.*)$') { $line = "$($Matches[1]) $($pending[$Matches[1]])$($Matches[2])" }
        if ($line -notmatch '^\d+\s+(openat|fsync|rename|renameat2?)\((.*)\)\s+=\s+(-?\d+).*<([\d.]+)>$') { continue }
        $call, $arguments, $took = $Matches[1], $Matches[2], ([double]$Matches[4] * 1000)
        if ($call -eq 'openat') {
            if ($arguments.Contains("`"$ready`"")) { $inWindow = $true }
            if ($arguments.Contains("`"$done`"")) { break }
            continue
        }
        if (-not $inWindow) { continue }
        if ($call -like 'rename*') { if ($arguments -match 'state\.json"$') { $renames.Add($took); $current += $took }; continue }
        if ($arguments -like '*/.state.json.*.tmp>') { $stateFsync.Add($took); $current += $took }
        elseif ($arguments -like '*.history.jsonl>') { $historyFsync.Add($took); $perRequest.Add($current + $took); $current = 0.0 }
    }
    "requests traced in the window: $($perRequest.Count) (state fsyncs $($stateFsync.Count), renames $($renames.Count), history fsyncs $($historyFsync.Count))"
    "median ms as strace -T saw them: state temporary file fsync {0:N3}; rename over the state {1:N3}; history append fsync {2:N3}; the three, per request {3:N3}" -f `
        (Get-Median $stateFsync), (Get-Median $renames), (Get-Median $historyFsync), (Get-Median $perRequest)
} finally {
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
}
