# tools/test-runs.sh: a run that was killed leaves its containers in the shared engines, holding ports the next run's
# tests expect to be free (a CI run on c26c14e failed so: a preview on 22000 left by a run stopped mid-Pester).
# The next run removes them, and only them: what a record names, when the record's process is provably gone.
# Every container here is a preview of this run (dyadports.managed=true, an AppId with this run's prefix) or carries
# this run's label, so Remove-TestContainers takes whatever a failed assertion leaves. The records live in a private folder.
# The etcd keys are under run ids of this test's own, and it deletes each by its key after.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    foreach ($e in $Engines) { Assert-EngineAnswers $e.Endpoint; Remove-TestContainers $e.Engine $e.Endpoint }
    $script:Runs = Join-Path $TestEnv.TempRoot ("runs-" + [guid]::NewGuid().ToString('N').Substring(0, 16))
    $script:Script = Join-Path $PSScriptRoot '../../tools/test-runs.sh'

    function Invoke-TestRuns {
        $saved = $env:DYADPORTS_TEST_RUNS
        $env:DYADPORTS_TEST_RUNS = $Runs
        try { & bash $Script @args 2>&1 } finally { $env:DYADPORTS_TEST_RUNS = $saved }
    }
    # A preview of this run (dyadports.managed=true, an AppId with this run's prefix unless -AppId says otherwise).
    function New-Preview([string] $Engine, [string] $Name, [string[]] $Label, [string] $AppId = $Name, [switch] $Unmanaged) {
        $managed = if ($Unmanaged) { @() } else { @('--label', 'dyadports.managed=true') }
        $labels = $managed + @('--label', "dyadports.app-id=$AppId") + @($Label | Where-Object { $_ } | ForEach-Object { '--label', $_ })
        Invoke-EngineCli $Engine create --name $Name @labels $TestEnv.Image true | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "$Engine could not create $Name" }
    }
    function Get-Names([string] $Engine) { @(Invoke-EngineCli $Engine ps -a --format '{{.Names}}') | Where-Object { $_ -like "${Prefix}reap-*" } | Sort-Object }
    # A record's line, rewritten: another boot, or another start time of the same pid.
    function Set-RecordLine([string] $Name, [string] $Key, [string] $Value) {
        $path = Join-Path $Runs $Name
        (Get-Content $path) -replace "^$Key=.*", "$Key=$Value" | Set-Content $path
    }

    # Processes this test starts, and stops by pid: one gone before the reap, one alive through it.
    $script:Gone = Start-Process sleep 600 -PassThru
    $script:Alive = Start-Process sleep 600 -PassThru

    $dead = [guid]::NewGuid().ToString('N')   # a run id of its own
    # Temporary folders as runs leave them (tools/TestEnv.ps1's TempRoot), in this test's own folder: the dead run's,
    # a live run's, and one of a dead run that is a link to a folder that must survive.
    $script:Temps = New-TestFolder 'runs-temps'
    $script:DeadTemp = Join-Path $Temps "dead/dyadports-tests/$dead"
    $script:LiveTemp = Join-Path $Temps "live/dyadports-tests/$([guid]::NewGuid().ToString('N'))"
    $script:LinkedTemp = Join-Path $Temps "linked/dyadports-tests/$([guid]::NewGuid().ToString('N'))"
    $script:Precious = Join-Path $Temps 'precious'
    foreach ($f in $DeadTemp, $LiveTemp, $Precious) { New-Item -ItemType Directory -Force (Join-Path $f 'state-1') | Out-Null; 'x' | Set-Content (Join-Path $f 'state-1/state.json') }
    New-Item -ItemType Directory -Force (Split-Path $LinkedTemp) | Out-Null
    New-Item -ItemType SymbolicLink -Path $LinkedTemp -Target $Precious | Out-Null
    # Keys in the test etcd members as runs leave them: the dead run's under each of its prefixes, a live run's, and a
    # near miss (a run id that only starts like the dead one's).
    $script:DeadRun = $dead
    $script:LiveRun = [guid]::NewGuid().ToString('N')
    # Each key is its prefix and 'k'.
    $script:DeadKeys = @(
        @{ Member = 'Shared'; Key = "/dyadports-test/$dead/k" }
        @{ Member = 'Shared'; Key = "/dyadports-bench/$dead/k" }
        @{ Member = 'Tls'; Key = "/dyadports-test/$dead/k" }
        @{ Member = 'Auth'; Key = "/dyadports/dyadports-test/$dead/k" }
        @{ Member = 'Auth'; Key = "/dyadports/test-$dead/k" }
    )
    # Kept: the live run's under each prefix, and beside each of the dead run's a near miss (its run id and one more
    # character: only a prefix that ends in its slash leaves it).
    $script:KeptKeys = @(
        @{ Member = 'Shared'; Key = "/dyadports-test/$LiveRun/k" }
        @{ Member = 'Tls'; Key = "/dyadports-test/$LiveRun/k" }
        @{ Member = 'Auth'; Key = "/dyadports/test-$LiveRun/k" }
    ) + @($DeadKeys | ForEach-Object { @{ Member = $_.Member; Key = $_.Key -replace "/$dead/", "/${dead}0/" -replace "test-$dead/", "test-${dead}0/" } })
    # Recorded for real (the runs' own folder, this process the owner) before they are made: were this file's process
    # killed, the next run's reap would remove them (all but the near misses, which no run id names).
    $script:KeysRecord = "testruns-keys-$([guid]::NewGuid().ToString('N').Substring(0, 12))"
    & bash $Script begin $KeysRecord $PID "etcd=$dead" "etcd=$LiveRun" | Should -BeNullOrEmpty
    foreach ($k in $DeadKeys + $KeptKeys) { Invoke-Etcdctl $k.Member @('put', $k.Key, 'x') | Should -Be 'OK' }
    function Test-EtcdKey($k) { [bool](Invoke-Etcdctl $k.Member @('get', '--keys-only', $k.Key) | Where-Object { $_ }) }

    Invoke-TestRuns begin gone $Gone.Id "label=$dead" "name=${Prefix}reap-named" "tmp=$DeadTemp" "etcd=$dead" | Should -BeNullOrEmpty
    Invoke-TestRuns begin otherboot $Alive.Id "prefix=${Prefix}reap-boot-" "tmp=$LinkedTemp" | Should -BeNullOrEmpty
    Set-RecordLine otherboot boot '00000000-0000-0000-0000-000000000000'
    Invoke-TestRuns begin reused $Alive.Id "prefix=${Prefix}reap-reused-" | Should -BeNullOrEmpty
    Set-RecordLine reused start 1
    Invoke-TestRuns begin alive $Alive.Id "prefix=${Prefix}reap-alive-" "tmp=$LiveTemp" "etcd=$LiveRun" | Should -BeNullOrEmpty

    New-Preview Docker "${Prefix}reap-labelled" "dyadports.test-run=$dead"
    New-Preview Podman "${Prefix}reap-named"
    New-Preview Docker "${Prefix}reap-boot-1"
    New-Preview Podman "${Prefix}reap-reused-1"
    New-Preview Podman "${Prefix}reap-alive-1"
    New-Preview Docker "${Prefix}reap-other"
    New-Preview Podman "${Prefix}reap-other"
    # Near misses, each kept: a name that only starts like a recorded one, an AppId with a recorded prefix further in,
    # and a container with a recorded prefix that is no DyadPorts preview (these two carry this run's label, by which
    # Remove-TestContainers takes them).
    New-Preview Podman "${Prefix}reap-named-2"
    New-Preview Docker "${Prefix}reap-xboot" -AppId "x${Prefix}reap-boot-1" -Label $RunLabel
    New-Preview Docker "${Prefix}reap-unmanaged" -AppId "${Prefix}reap-boot-2" -Unmanaged -Label $RunLabel

    $Gone.Kill(); $Gone.WaitForExit()
    $script:Said = Invoke-TestRuns reap
    $script:Exit = $LASTEXITCODE
}
AfterAll {
    if ($Alive -and -not $Alive.HasExited) { $Alive.Kill(); $Alive.WaitForExit() }
    if ($Gone -and -not $Gone.HasExited) { $Gone.Kill(); $Gone.WaitForExit() }
    foreach ($e in $Engines) { Remove-TestContainers $e.Engine $e.Endpoint }
    foreach ($k in @($DeadKeys) + @($KeptKeys) | Where-Object { $_ }) { Invoke-Etcdctl $k.Member @('del', $k.Key) | Out-Null }
    if ($KeysRecord) { & bash $Script end $KeysRecord }
    if ($Runs) { Remove-Item $Runs -Recurse -Force -ErrorAction SilentlyContinue }
    if ($Temps) { Remove-Item $Temps -Recurse -Force -ErrorAction SilentlyContinue }
}

Describe 'The records of test runs (tools/test-runs.sh)' {
    It 'removes what a run whose process is gone left, by its run label and by name, on both engines' {
        Get-Names Docker | Should -Not -Contain "${Prefix}reap-labelled"
        Get-Names Podman | Should -Not -Contain "${Prefix}reap-named"
        $Said | Should -Contain "test-runs: run gone (pid $($Gone.Id)) is gone; removing what it left in docker: ${Prefix}reap-labelled"
    }

    It 'takes a record of another boot, or of another start time of the same pid, for a run that is gone' {
        Get-Names Docker | Should -Not -Contain "${Prefix}reap-boot-1"
        Get-Names Podman | Should -Not -Contain "${Prefix}reap-reused-1"
    }

    It 'keeps what a live run made, and what no record names' {
        Get-Names Podman | Should -Contain "${Prefix}reap-alive-1"
        Get-Names Docker | Should -Contain "${Prefix}reap-other"
        Get-Names Podman | Should -Contain "${Prefix}reap-other"
    }

    It 'matches a name whole, a prefix at the start of an AppId, and a prefix only on a DyadPorts preview' {
        Get-Names Podman | Should -Contain "${Prefix}reap-named-2"
        Get-Names Docker | Should -Contain "${Prefix}reap-xboot"
        Get-Names Docker | Should -Contain "${Prefix}reap-unmanaged"
    }

    It 'removes the keys a run that is gone left in each test etcd member, and only those' {
        foreach ($k in $DeadKeys) {
            $member = $k.Member.ToLowerInvariant()
            Test-EtcdKey $k | Should -BeFalse -Because "$($k.Key) on the $member member is the dead run's"
            $Said | Should -Contain "test-runs: removing 1 etcd key(s) run $DeadRun left under $($k.Key.TrimEnd('k')) on the $member member"
        }
        foreach ($k in $KeptKeys) { Test-EtcdKey $k | Should -BeTrue -Because "$($k.Key) is a live run's, or another run id's" }
    }

    It 'keeps a record it cannot read back whole, and removes nothing it names' {
        $cut = Join-Path $Runs 'cut'
        "boot=00000000-0000-0000-0000-000000000000`npidns=pid:[1]`npid=1`nstart=1`nlabel=" | Set-Content $cut   # dead, with an empty label
        try {
            $said = Invoke-TestRuns reap
            $LASTEXITCODE | Should -Be 1
            $said | Should -Contain 'test-runs: the record cut cannot be read back whole; it is kept, and nothing it names is removed'
            Test-Path $cut | Should -BeTrue
            Get-Names Docker | Should -Contain "${Prefix}reap-other" -Because 'an empty label would match every container without one'
        } finally { Remove-Item $cut -ErrorAction SilentlyContinue }
    }

    It 'removes the temporary folder of a run that is gone, keeps a live run''s, and follows no link' {
        Test-Path $DeadTemp | Should -BeFalse
        $Said | Should -Contain "test-runs: removing the temporary folder $DeadTemp of a run that is gone"
        Test-Path (Join-Path $LiveTemp 'state-1/state.json') | Should -BeTrue
        Test-Path (Join-Path $Precious 'state-1/state.json') | Should -BeTrue -Because 'a link is not a run''s folder'
        $Said | Should -Contain "test-runs: $LinkedTemp is not a folder of this user's; left as it is"
        Remove-Item -LiteralPath $LinkedTemp -Force   # the link alone: the dead run's record can go now
        Invoke-TestRuns reap | Should -BeNullOrEmpty
        Test-Path (Join-Path $Runs 'otherboot') | Should -BeFalse
    }

    It 'keeps only the live run''s record, and ends it on request' {
        $Exit | Should -Be 1 -Because 'the record whose folder was a link was kept'
        @(Get-ChildItem $Runs -Name) | Should -Be @('alive')
        Invoke-TestRuns end alive | Should -BeNullOrEmpty
        @(Get-ChildItem $Runs -Name) | Should -BeNullOrEmpty
    }

    It 'keeps the record of a run that is gone while <What> cannot be asked, and says so' -ForEach @(
        @{ What = 'an engine'; Variable = 'DYADPORTS_TEST_DOCKER'; Unreachable = 'unix:///nonexistent/docker.sock'; Record = 'unasked' }
        @{ What = 'an etcd member'; Variable = 'DYADPORTS_TEST_ETCD_AUTH'; Unreachable = '127.0.0.1:9'; Record = 'etcdless' }   # nothing listens there
    ) {
        $run = [guid]::NewGuid().ToString('N')
        $selector, $says = if ($Record -eq 'unasked') { "prefix=${Prefix}reap-unasked-", 'test-runs: docker did not answer; the record of dead run unasked is kept' }
                           else { "etcd=$run", "test-runs: the etcd member auth did not answer; the keys of dead run $run there are kept" }
        Invoke-TestRuns begin $Record $Alive.Id $selector | Should -BeNullOrEmpty
        Set-RecordLine $Record start 1
        $saved = [Environment]::GetEnvironmentVariable($Variable)
        [Environment]::SetEnvironmentVariable($Variable, $Unreachable)
        try { $said = Invoke-TestRuns reap; $exit = $LASTEXITCODE } finally { [Environment]::SetEnvironmentVariable($Variable, $saved) }
        $said | Should -Contain $says
        $exit | Should -Be 1
        Test-Path (Join-Path $Runs $Record) | Should -BeTrue
        Invoke-TestRuns reap | Should -BeNullOrEmpty
        Test-Path (Join-Path $Runs $Record) | Should -BeFalse -Because 'with everything answering, and nothing of it left, the record goes'
    }

    It 'refuses a record name, a pid or a selector broader than what a run makes' -ForEach @(
        @{ Name = '../x'; Owner = 'alive'; Selector = @(); Says = '*is not a record name*' }
        @{ Name = 'x.tmp'; Owner = 'alive'; Selector = @(); Says = '*is not a record name*' }
        @{ Name = 'bad'; Owner = 'self'; Selector = @(); Says = "*'self' is not a pid*" }
        @{ Name = 'bad'; Owner = 'alive'; Selector = @('label='); Says = '*bad selector*' }
        @{ Name = 'bad'; Owner = 'alive'; Selector = @('label=not-a-run-id'); Says = '*bad selector*' }
        @{ Name = 'bad'; Owner = 'alive'; Selector = @('prefix='); Says = '*bad selector*' }
        @{ Name = 'bad'; Owner = 'alive'; Selector = @('prefix=t'); Says = '*bad selector*' }
        @{ Name = 'bad'; Owner = 'alive'; Selector = @('name=my-app'); Says = '*bad selector*' }
        @{ Name = 'bad'; Owner = 'alive'; Selector = @('tmp=/home/me'); Says = '*bad selector*' }
        @{ Name = 'bad'; Owner = 'alive'; Selector = @('tmp=dyadports-tests/0123456789abcdef0123456789abcdef'); Says = '*bad selector*' }
        @{ Name = 'bad'; Owner = 'alive'; Selector = @('tmp=/tmp/../home/dyadports-tests/0123456789abcdef0123456789abcdef'); Says = '*bad selector*' }
        @{ Name = 'bad'; Owner = 'alive'; Selector = @('tmp=/tmp/dyadports-tests/0123456789abcdef0123456789abcdef/..'); Says = '*bad selector*' }
        @{ Name = 'bad'; Owner = 'alive'; Selector = @('etcd='); Says = '*bad selector*' }
        @{ Name = 'bad'; Owner = 'alive'; Selector = @('etcd=/dyadports-test/'); Says = '*bad selector*' }
        @{ Name = 'bad'; Owner = 'alive'; Selector = @('etcd=0123456789abcdef0123456789abcdef/..'); Says = '*bad selector*' }
    ) {
        $id = if ($Owner -eq 'alive') { $Alive.Id } else { $Owner }
        $before = @(Get-ChildItem $Runs -Name)
        Invoke-TestRuns begin $Name $id @Selector | Should -BeLike $Says
        $LASTEXITCODE | Should -Be 2
        @(Get-ChildItem $Runs -Name) | Should -Be $before
    }
}
