# Dot-sourced by bench/Invoke-Bench.ps1 (each of its states), bench/Measure-OneShot.ps1, bench/Trace-OneShot.ps1, the docker probes of bench section 7 (through bench/DockerFloor.ps1) and bench/Compare-FeedOffBuilds.ps1:
# a run's own DYAD_PORTS_STATE, in a folder of its own named before anything can fail. Exit-BenchState removes that folder
# (the state, its history and the engine-ports cache beside it), nothing a caller's DYAD_PORTS_STATE names, and gives that back.

function Enter-BenchState([string] $Name) {
    $callers = $env:DYAD_PORTS_STATE
    $folder = Join-Path ([IO.Path]::GetTempPath()) "dyadports-$Name-$([guid]::NewGuid().ToString('N'))"
    $null = New-Item -ItemType Directory -Path $folder
    $env:DYAD_PORTS_STATE = Join-Path $folder 'state.json'
    [pscustomobject]@{ Folder = $folder; CallersState = $callers }
}

function Exit-BenchState($State) {
    Remove-Item -LiteralPath $State.Folder -Recurse -Force -ErrorAction SilentlyContinue
    $env:DYAD_PORTS_STATE = $State.CallersState
}
