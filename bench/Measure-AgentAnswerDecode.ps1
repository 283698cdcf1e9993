<#
.SYNOPSIS
    What the agent's answer costs a one-shot process to read, against the number of containers in it (issue 18: would
    shrinking the answer at K=1000 cut the agent one-shot?).
.DESCRIPTION
    Each run starts one fresh pwsh per K (the order reversed every other run), which imports the module and then, timed
    by a Stopwatch inside the process:
      decode   - AgentWire.DecodeAnswer of an answer frame of K containers (made once per K by this script and
                 written to a temp file, which the child reads before the clock starts: each container shaped like the
                 bench's scale containers, with a 64-digit id, a name, a state, an image, two labels, one published
                 port and a created time);
      snapshot - new EngineSnapshot over them (its indexes by host port and by app);
      again    - both once more in the same process, warm.
    The first two are what a one-shot's request pays for the agent's answer past the exchange itself. The exchange
    (reading the frame from the agent's socket) and the agent's own encoding are left out. The K that the answer's size
    costs shows best in 'both again' (warm); the first pair includes the first call's fixed costs. One warm-up run is not
    counted. Prints one raw line per process, then the medians per K and of the per-run difference of each K to the first.
.EXAMPLE
    # -Command, not -File: under -File, '-K 60,1000' arrives as one string, which [int[]] reads as 601000.
    dotnet exec /tmp/pwsh-release/pwsh.dll -NoProfile -Command '& ./bench/Measure-AgentAnswerDecode.ps1 -ModulePath ./out/DyadPorts -K 60,1000 -Runs 11'
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [int[]] $K = @(60, 1000),
    [int] $Runs = 11
)
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot '../tools/ChildPwsh.ps1')
. (Join-Path $PSScriptRoot 'Median.ps1')
$module = (Resolve-Path $ModulePath).Path

# The frames, one per K, made here (this process imports the module) and written to temp files: each child only reads
# its file's bytes before the clock starts, the same work at every K, so no K warms the decoder's code more than another.
Import-Module $module
$core = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'DyadPorts.Core' }
$summary = $core.GetType('DyadPorts.Core.Engines.ContainerSummary', $true)
$published = $core.GetType('DyadPorts.Core.Engines.PublishedPort', $true)
$answerType = $core.GetType('DyadPorts.Core.Agent.AgentAnswer', $true)
$encode = $core.GetType('DyadPorts.Core.Agent.AgentWire', $true).GetMethod('Encode', [type[]]@($answerType))
$frames = @{}
$script = $null
try {
    foreach ($count in $K) {
        $containers = [Array]::CreateInstance($summary, $count)
        $created = [DateTimeOffset]::UtcNow
        for ($i = 0; $i -lt $count; $i++) {
            $c = [Activator]::CreateInstance($summary)
            $c.Id = '{0:x64}' -f $i
            $c.Name = "dyadports-test-0123456789ab-scale-$(26000 + $i)"
            $c.State = 'created'
            $c.Image = 'docker.io/library/alpine:3.20'
            $labels = [System.Collections.Generic.Dictionary[string, string]]::new()
            $labels['dyadports.test-run'] = '0123456789abcdef0123456789abcdef'
            $labels['dyadports.bench'] = 'scale'
            $c.Labels = $labels
            $ports = [Array]::CreateInstance($published, 1)
            $ports[0] = [Activator]::CreateInstance($published, @([int](26000 + $i), '0.0.0.0', [int]8080, 'tcp'))
            $c.Ports = $ports
            $c.Created = $created
            $containers[$i] = $c
        }
        $answer = [Activator]::CreateInstance($answerType)
        $answerType.GetProperty('Containers').SetValue($answer, $containers)
        $frames[$count] = Join-Path ([IO.Path]::GetTempPath()) "dyadports-answer-$count-$([guid]::NewGuid().ToString('N')).bin"
        [IO.File]::WriteAllBytes($frames[$count], $encode.Invoke($null, @($answer)))
    }

    # The child: reads the frame's bytes untimed, then times the first decode and snapshot, then both again.
    $child = @'
param([string] $Module, [string] $FramePath, [int] $Count)
$ErrorActionPreference = 'Stop'
Import-Module $Module
$core = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'DyadPorts.Core' }
$decode = $core.GetType('DyadPorts.Core.Agent.AgentWire', $true).GetMethod('DecodeAnswer')
$snapshotType = $core.GetType('DyadPorts.Core.Engines.EngineSnapshot', $true)
$frame = [IO.File]::ReadAllBytes($FramePath)
$sw = [Diagnostics.Stopwatch]::StartNew()
$read = $decode.Invoke($null, @(, $frame))
$decodeMs = $sw.Elapsed.TotalMilliseconds; $sw.Restart()
$null = [Activator]::CreateInstance($snapshotType, @(, $read.Containers))
$snapshotMs = $sw.Elapsed.TotalMilliseconds; $sw.Restart()
$read = $decode.Invoke($null, @(, $frame)); $null = [Activator]::CreateInstance($snapshotType, @(, $read.Containers))
$againMs = $sw.Elapsed.TotalMilliseconds
if ($read.Containers.Count -ne $Count) { throw "decoded $($read.Containers.Count) containers, not $Count" }
'{0} {1} {2} {3}' -f $frame.Length, $decodeMs.ToString([cultureinfo]::InvariantCulture), $snapshotMs.ToString([cultureinfo]::InvariantCulture), $againMs.ToString([cultureinfo]::InvariantCulture)
'@
    $script = Join-Path ([IO.Path]::GetTempPath()) "dyadports-answer-decode-$([guid]::NewGuid().ToString('N')).ps1"
    Set-Content -Path $script -Value $child
    "# agent answer decode, $(Get-Date -Format o); pwsh $($PSVersionTable.PSVersion); dotnet $([Environment]::Version); $([Environment]::ProcessorCount) cores; child: $ChildPwsh $($ChildPwshPrefix -join ' ')"
    "# module: $module; commit $(& git -C $module describe --always --dirty --abbrev=7 2>$null); runs $Runs (one warm-up not counted)"
    "# load before: $((Get-Content /proc/loadavg -Raw).Trim())"
    $rows = [System.Collections.Generic.List[object]]::new()
    foreach ($run in 0..$Runs) {
        $order = @($K); if ($run % 2 -eq 0) { [array]::Reverse($order) }
        foreach ($count in $order) {
            $out = @(& $ChildPwsh @(Get-ChildPwshArgument '-NoProfile', '-NonInteractive', '-File', $script, '-Module', $module, '-FramePath', $frames[$count], '-Count', $count) 2>&1)
            if ($LASTEXITCODE -ne 0) { throw "the child for K=$count exited with $LASTEXITCODE`: $($out -join "`n")" }
            if ($run -eq 0) { continue }
            $bytes, $decodeMs, $snapshotMs, $againMs = "$($out[-1])".Split(' ')
            $row = [pscustomobject]@{
                Run = $run; K = $count; Bytes = [int]$bytes
                Decode = [double]::Parse($decodeMs, [cultureinfo]::InvariantCulture)
                Snapshot = [double]::Parse($snapshotMs, [cultureinfo]::InvariantCulture)
                Again = [double]::Parse($againMs, [cultureinfo]::InvariantCulture)
            }
            $rows.Add($row)
            'run {0,2} K={1,-5} frame {2,8:N0} bytes  first decode {3,6:N2} ms  first snapshot {4,6:N2} ms  both again {5,6:N2} ms' -f $run, $count, $row.Bytes, $row.Decode, $row.Snapshot, $row.Again
        }
    }
    "# load after: $((Get-Content /proc/loadavg -Raw).Trim())"
    foreach ($count in $K) {
        $mine = $rows | Where-Object K -eq $count
        'median K={0,-5} frame {1,8:N0} bytes  first decode {2,6:N2} ms  first snapshot {3,6:N2} ms  first both {4,6:N2} ms  both again {5,6:N2} ms' -f $count, $mine[0].Bytes, (Get-Median $mine.Decode), (Get-Median $mine.Snapshot), (Get-Median @($mine | ForEach-Object { $_.Decode + $_.Snapshot })), (Get-Median $mine.Again)
    }
    foreach ($count in $K | Select-Object -Skip 1) {
        $differences = foreach ($run in 1..$Runs) {
            $a = $rows | Where-Object { $_.Run -eq $run -and $_.K -eq $count }
            $b = $rows | Where-Object { $_.Run -eq $run -and $_.K -eq $K[0] }
            ($a.Decode + $a.Snapshot) - ($b.Decode + $b.Snapshot)
        }
        'paired K={0} - K={1}: first decode + snapshot, median of per-run differences {2,6:N2} ms' -f $count, $K[0], (Get-Median @($differences))
    }
}
finally {
    foreach ($file in @($script) + @($frames.Values)) { if ($file) { Remove-Item -LiteralPath $file -ErrorAction SilentlyContinue } }
}
