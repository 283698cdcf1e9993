# Every cmdlet unchanged on a fleet state on etcd (issue 17 items 1 and 3), against the built module and the real
# clusters tools/setup-etcd.sh runs: the shared 3-member cluster, the TLS member (client certificates) and the auth
# member (user dyad, readwrite on /dyadports/). Each test writes under its own prefix, /dyadports-test/<run id>/...
# (on the auth member /dyadports/test-<run id>/...), and deletes that prefix after, nothing else. Ports 24600-24689.
BeforeDiscovery { . (Join-Path $PSScriptRoot 'Common.ps1') }
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $ModulePath -Force

    $script:Etcdctl = Join-Path $TestEnv.EtcdBin 'etcdctl'
    $script:Tls = Join-Path $TestEnv.State 'etcd/tls'
    $script:Auth = Join-Path $TestEnv.State 'etcd/auth'
    if (-not (Test-Path $Etcdctl)) { throw "ETCD MISSING: no etcdctl at $Etcdctl. Run 'sudo bash tools/setup-etcd.sh'." }
    $script:Variables = 'DYAD_PORTS_STATE', 'DYAD_PORTS_ETCD_CACERT', 'DYAD_PORTS_ETCD_CERT', 'DYAD_PORTS_ETCD_KEY',
        'DYAD_PORTS_ETCD_USER', 'DYAD_PORTS_ETCD_PASSWORD_FILE', 'DYAD_PORTS_ETCD_TIMEOUT'
    $script:Saved = @{}
    foreach ($v in $Variables) { $Saved[$v] = [Environment]::GetEnvironmentVariable($v) }

    # A prefix of this run's own on a member; Remove-FleetPrefixes deletes exactly the ones made here.
    $script:Made = [System.Collections.Generic.List[object]]::new()
    function New-FleetPrefix {
        param([string] $Name, [ValidateSet('Shared', 'Tls', 'Auth')] [string] $Member = 'Shared')
        $path = if ($Member -eq 'Auth') { "/dyadports/test-$($TestEnv.RunId)/$Name" } else { "/dyadports-test/$($TestEnv.RunId)/$Name" }
        $Made.Add([pscustomobject]@{ Member = $Member; Path = $path })
        $path
    }
    function Remove-FleetPrefixes {
        foreach ($one in $Made) { Invoke-Etcdctl $one.Member @('del', '--prefix', "$($one.Path)/") | Out-Null }
        $Made.Clear()
    }

    # The error a command ends with when it terminates; $null when it ends normally (non-terminating errors are dropped).
    function Get-TerminatingError {
        param([scriptblock] $ScriptBlock)
        $ErrorActionPreference = 'Continue'
        try { & $ScriptBlock 2>$null | Out-Null; $null } catch { $_ }
    }

    # A fresh empty folder of its own.
    function New-TestHome {
        $dir = New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) ("dyadports-fleet-" + [guid]::NewGuid().ToString('N')))
        $dir.FullName
    }
}
AfterAll {
    foreach ($v in $Variables) { [Environment]::SetEnvironmentVariable($v, $Saved[$v]) }
}

Describe 'Every cmdlet on an etcd state, with the docker engine' {
    BeforeAll {
        $script:Docker = ($Engines | Where-Object Engine -eq 'Docker')
        Assert-EngineAnswers $Docker.Endpoint
        Remove-TestContainers Docker $Docker.Endpoint
        $PSDefaultParameterValues = @{ '*-Dyad*:Engine' = 'Docker'; '*-Dyad*:EngineEndpoint' = $Docker.Endpoint }
        $PSDefaultParameterValues.Remove('Remove-DyadPortAllocation:Engine')
        $PSDefaultParameterValues.Remove('Remove-DyadPortAllocation:EngineEndpoint')
        $app = Join-Path TestDrive: 'app'
        New-Item -ItemType Directory $app | Out-Null
        'fleet ok' | Set-Content (Join-Path $app 'index.html')
        $script:App = (Resolve-Path $app).ProviderPath
    }
    BeforeEach {
        $script:Home1 = New-TestHome
        $script:SavedXdg = $env:XDG_STATE_HOME
        $env:XDG_STATE_HOME = $Home1
    }
    AfterEach {
        Remove-FleetPrefixes
        $env:XDG_STATE_HOME = $SavedXdg
        foreach ($v in $Variables) { [Environment]::SetEnvironmentVariable($v, $Saved[$v]) }
        Remove-Item $Home1 -Recurse -Force -ErrorAction SilentlyContinue
    }
    AfterAll { Remove-TestContainers Docker $Docker.Endpoint }

    It 'requests with fallback past a host listener and with -Force, tests, lists and removes, and writes no file' {
        $env:DYAD_PORTS_STATE = "etcd://$($TestEnv.Etcd)$(New-FleetPrefix 'cmdlets')"
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Any, 24600)
        $listener.Start()
        try {
            $first = Request-DyadPort "${Prefix}f1" -PortRange 24600-24609 -WarningVariable warnings 3>$null
            $first.Port | Should -Be 24601 -Because 'a host process listens on 24600'
            (Request-DyadPort "${Prefix}f2" -PortRange 24600-24609).Port | Should -Be 24602
            Test-DyadPortAvailable 24600, 24601, 24605 | Should -Be @($false, $false, $true)
        }
        finally { $listener.Stop() }
        (Request-DyadPort "${Prefix}f1" -PortRange 24600-24609).Port | Should -Be 24601 -Because 'an app keeps its free port'
        (Request-DyadPort "${Prefix}f1" -PortRange 24600-24609 -Force).Port | Should -Be 24600 -Because '-Force chooses again from the start of the range'
        $listed = Get-DyadPortAllocation "${Prefix}f*"
        $listed.AppId | Should -Be @("${Prefix}f1", "${Prefix}f2")
        $listed.Port | Should -Be @(24600, 24602)
        $listed.Status | Should -Be @('Reserved', 'Reserved')
        Remove-DyadPortAllocation "${Prefix}f1"
        (Get-DyadPortAllocation "${Prefix}f*").AppId | Should -Be @("${Prefix}f2")
        (Get-DyadPortHistory "${Prefix}f1").Kind | Should -Contain 'Released'
        Get-ChildItem $Home1 -Recurse | Should -BeNullOrEmpty -Because 'an etcd state never falls back to a file'
    }

    It 'refuses only the app whose key holds another tool''s value (non-terminating StateRecordForeign, the key its target), leaves the key, and allocates the next piped app' {
        $store = New-FleetPrefix 'foreign'
        $env:DYAD_PORTS_STATE = "etcd://$($TestEnv.Etcd)$store"
        $key = "$store/apps/$([uri]::EscapeDataString("${Prefix}foreign"))"
        Invoke-Etcdctl Shared @('put', $key, '{"owner":"another tool"}') | Out-Null
        $got = "${Prefix}foreign", "${Prefix}next" | Request-DyadPort -PortRange 24616-24619 -ErrorVariable failed -ErrorAction SilentlyContinue
        $got.AppId | Should -Be "${Prefix}next" -Because 'the failure is tied to one input: the pipeline goes on'
        $failed.Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'StateRecordForeign,*'
        $failed[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $failed[0].TargetObject | Should -Be $key
        Invoke-Etcdctl Shared @('get', $key, '--print-value-only') | Should -Be '{"owner":"another tool"}' -Because 'a value DyadPorts does not understand is never overwritten'
    }

    It 'starts a preview that answers, labelled with the prefix''s state id, lists it Active, and stops it' {
        $etcdPrefix = New-FleetPrefix 'preview'
        $env:DYAD_PORTS_STATE = "etcd://$($TestEnv.Etcd)$etcdPrefix"
        $preview = Start-DyadPreview "${Prefix}fp" -Path $App -Image $Docker.Image -Command 'httpd -f -p "$PORT" -h /app' -PortRange 24610-24615
        $preview.Port | Should -BeIn (24610..24615)
        (Invoke-WebRequest "http://127.0.0.1:$($preview.Port)/" -UseBasicParsing).Content.Trim() | Should -Be 'fleet ok'
        (Get-DyadPortAllocation "${Prefix}fp").Status | Should -Be 'Active'
        $stateId = (Invoke-Etcdctl Shared @('get', '--print-value-only', "$etcdPrefix/meta/state-id")) -join ''
        $label = Invoke-EngineCli Docker inspect --format '{{index .Config.Labels "dyadports.state"}}' $preview.ContainerName
        $stateId | Should -Match ([regex]::Escape($label)) -Because 'the container carries the prefix''s state id'
        $stopped = Stop-DyadPreview "${Prefix}fp" -Remove -PassThru
        $stopped.AppId | Should -Be "${Prefix}fp"
        Get-DyadPortAllocation "${Prefix}fp" -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Get-CliPorts Docker $Docker.Endpoint $preview.ContainerName | Should -BeNullOrEmpty
        Test-DyadPortAvailable $preview.Port | Should -BeTrue
    }
}

Describe 'Two operators with separate homes on one etcd state' {
    AfterEach { Remove-FleetPrefixes }

    It 'see each other''s allocations and history and never get the same port (2 processes x 10 requests)' {
        $state = "etcd://$($TestEnv.Etcd)$(New-FleetPrefix 'operators')"
        $homes = @(New-TestHome; New-TestHome)
        $saved = $env:HOME, $env:XDG_STATE_HOME, $env:DYAD_PORTS_STATE
        $children = @()
        try {
            $env:DYAD_PORTS_STATE = $state
            foreach ($i in 0, 1) {
                $env:HOME = $homes[$i]; $env:XDG_STATE_HOME = Join-Path $homes[$i] 'state'
                $script = "foreach (`$n in 1..10) { (Request-DyadPort ('${Prefix}op$i-' + `$n) -Engine Process -PortRange 24620-24659).Port }"
                $children += Start-ChildPwsh $script -StandardOutput (Join-Path $homes[$i] 'out.txt') -StandardError (Join-Path $homes[$i] 'err.txt')
            }
        }
        finally { $env:HOME, $env:XDG_STATE_HOME, $env:DYAD_PORTS_STATE = $saved }
        foreach ($child in $children) { $child.WaitForExit(120000) | Should -BeTrue; $child.ExitCode | Should -Be 0 -Because (Get-Content (Join-Path $homes[$children.IndexOf($child)] 'err.txt') -Raw) }
        $ports = @(foreach ($h in $homes) { Get-Content (Join-Path $h 'out.txt') | Where-Object { $_ -match '^\d+$' } | ForEach-Object { [int]$_ } })
        $ports.Count | Should -Be 20
        @($ports | Sort-Object -Unique).Count | Should -Be 20 -Because 'no port is given twice'

        # Operator 1's home reads the fleet: operator 0's allocations and history are there, and no state file in either home.
        $saved = $env:HOME, $env:XDG_STATE_HOME, $env:DYAD_PORTS_STATE
        try {
            $env:HOME = $homes[1]; $env:XDG_STATE_HOME = Join-Path $homes[1] 'state'; $env:DYAD_PORTS_STATE = $state
            $seen = Invoke-ChildPwsh @"
[pscustomobject]@{
    Apps = @(Get-DyadPortAllocation '${Prefix}op*').Count
    Ports = @(Get-DyadPortAllocation '${Prefix}op*' | ForEach-Object Port)
    History = @(Get-DyadPortHistory '${Prefix}op*' -Kind Allocated | ForEach-Object AppId | Sort-Object -Unique)
    Operators = @(Get-DyadPortHistory '${Prefix}op*' -Kind Allocated | ForEach-Object Operator | Sort-Object -Unique)
} | ConvertTo-Json -Compress
"@
        }
        finally { $env:HOME, $env:XDG_STATE_HOME, $env:DYAD_PORTS_STATE = $saved }
        $seen = @($seen)[-1] | ConvertFrom-Json
        $seen.Apps | Should -Be 20
        @($seen.Ports | Sort-Object) | Should -Be @($ports | Sort-Object)
        $seen.History | Should -Contain "${Prefix}op0-1"
        $seen.History | Should -Contain "${Prefix}op1-10"
        $seen.History.Count | Should -Be 20
        # Each event names its operator, user@machine (both child processes here run as one user on one machine).
        @($seen.Operators) | Should -Be @("$([Environment]::UserName)@$([Environment]::MachineName)")
        foreach ($h in $homes) { Test-Path (Join-Path $h 'state/dyadports/state.json') | Should -BeFalse }
        Remove-Item $homes -Recurse -Force -ErrorAction SilentlyContinue
    }
}

Describe 'Copy-DyadPortState between a file and etcd' {
    AfterEach {
        Remove-FleetPrefixes
        $env:DYAD_PORTS_STATE = $Saved['DYAD_PORTS_STATE']
    }

    It 'moves a file state into etcd keeping ports and ownership, and backs it up to a new file unchanged' {
        $file = New-TestState
        Request-DyadPort fl-a -Engine Process -PortRange 24680-24689 | Out-Null
        Request-DyadPort fl-b -Engine Process -PortRange 24680-24689 | Out-Null
        $sourceId = (Get-Content $file -Raw | ConvertFrom-Json).stateId
        $url = "etcd://$($TestEnv.Etcd)$(New-FleetPrefix 'copy')"

        $in = Copy-DyadPortState -Source $file -Destination $url
        $in.Copied | Should -Be 2
        $in.AdoptedStateIds | Should -Contain $sourceId
        $env:DYAD_PORTS_STATE = $url
        (Get-DyadPortAllocation -Engine Process | Sort-Object AppId).ForEach({ "$($_.AppId):$($_.Port)" }) | Should -Be @('fl-a:24680', 'fl-b:24681')

        $backup = Join-Path (Split-Path $file) 'backup/state.json'
        $out = Copy-DyadPortState -Source $url -Destination $backup
        $out.Copied | Should -Be 2
        $env:DYAD_PORTS_STATE = $backup
        (Get-DyadPortAllocation -Engine Process | Sort-Object AppId).ForEach({ "$($_.AppId):$($_.Port)" }) | Should -Be @('fl-a:24680', 'fl-b:24681')
        (Get-Content $backup -Raw | ConvertFrom-Json).adoptedStateIds | Should -Contain $sourceId

        # A second copy into etcd finds them identical: nothing copied twice, no conflict.
        $again = Copy-DyadPortState -Source $file -Destination $url
        ($again.Copied, $again.Identical, $again.Conflicts) | Should -Be @(0, 2, 0)
    }
}

Describe 'State locations that are refused' {
    BeforeEach {
        $script:Work = New-TestHome
        $script:SavedXdg = $env:XDG_STATE_HOME
        $env:XDG_STATE_HOME = Join-Path $Work 'xdg'
        Push-Location $Work
    }
    AfterEach {
        Pop-Location
        $env:XDG_STATE_HOME = $SavedXdg
        foreach ($v in $Variables) { [Environment]::SetEnvironmentVariable($v, $Saved[$v]) }
        Remove-FleetPrefixes
        Remove-Item $Work -Recurse -Force -ErrorAction SilentlyContinue
    }

    It 'refuses an unknown scheme with a terminating StateLocationInvalid, creating nothing in the working directory' {
        $env:DYAD_PORTS_STATE = 'consul://x'
        $err = Get-TerminatingError { Request-DyadPort "${Prefix}u1" -Engine Process -PortRange 24660-24669 }
        $err | Should -Not -BeNullOrEmpty -Because 'the error terminates the command'
        $err.FullyQualifiedErrorId | Should -BeLike 'StateLocationInvalid,*'
        $err.Exception.Message | Should -Match "'consul'"
        (Get-TerminatingError { Get-DyadPortAllocation }).FullyQualifiedErrorId | Should -BeLike 'StateLocationInvalid,*'
        Get-ChildItem $Work -Recurse -Force | Should -BeNullOrEmpty -Because 'a URL is never taken as a relative path (0.2.0 made a folder consul:)'
    }

    It 'fails on an unreachable cluster with a terminating StateStoreUnavailable within the bound, naming it, and writes no file' {
        $env:DYAD_PORTS_STATE = 'etcd://127.0.0.1:20799/x'
        $env:DYAD_PORTS_ETCD_TIMEOUT = '3'
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $err = Get-TerminatingError { Request-DyadPort "${Prefix}u2" -Engine Process -PortRange 24660-24669 }
        $watch.Stop()
        $err.FullyQualifiedErrorId | Should -BeLike 'StateStoreUnavailable,*'
        $err.Exception.Message | Should -Match '127\.0\.0\.1:20799'
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 10
        Get-ChildItem $Work -Recurse -Force | Should -BeNullOrEmpty -Because 'it never falls back to a file state'
    }
}

Describe 'The TLS member (client certificates)' {
    AfterEach {
        foreach ($v in $Variables) { [Environment]::SetEnvironmentVariable($v, $Saved[$v]) }
        Remove-FleetPrefixes
    }

    It 'works with the CA, the client certificate and its key' {
        $env:DYAD_PORTS_STATE = "etcds://$($TestEnv.EtcdTls)$(New-FleetPrefix 'tls' 'Tls')"
        $env:DYAD_PORTS_ETCD_CACERT = "$Tls/ca.pem"; $env:DYAD_PORTS_ETCD_CERT = "$Tls/client.pem"; $env:DYAD_PORTS_ETCD_KEY = "$Tls/client-key.pem"
        (Request-DyadPort "${Prefix}t1" -Engine Process -PortRange 24670-24679).Port | Should -Be 24670
        (Get-DyadPortAllocation "${Prefix}t1").Port | Should -Be 24670
        Remove-DyadPortAllocation "${Prefix}t1"
    }

    It 'refuses with StateStoreRefused naming an unknown CA when the CA is the wrong one' {
        $env:DYAD_PORTS_STATE = "etcds://$($TestEnv.EtcdTls)$(New-FleetPrefix 'tls-ca' 'Tls')"
        $env:DYAD_PORTS_ETCD_CACERT = "$Tls/wrong-ca.pem"; $env:DYAD_PORTS_ETCD_CERT = "$Tls/client.pem"; $env:DYAD_PORTS_ETCD_KEY = "$Tls/client-key.pem"
        $env:DYAD_PORTS_ETCD_TIMEOUT = '5'
        $err = Get-TerminatingError { Request-DyadPort "${Prefix}t2" -Engine Process -PortRange 24670-24679 }
        $err.FullyQualifiedErrorId | Should -BeLike 'StateStoreRefused,*'
        $err.Exception.Message | Should -Match 'unknown CA'
    }

    It 'refuses with StateStoreRefused without a client certificate' {
        $env:DYAD_PORTS_STATE = "etcds://$($TestEnv.EtcdTls)$(New-FleetPrefix 'tls-nocert' 'Tls')"
        $env:DYAD_PORTS_ETCD_CACERT = "$Tls/ca.pem"
        $env:DYAD_PORTS_ETCD_TIMEOUT = '5'
        $err = Get-TerminatingError { Request-DyadPort "${Prefix}t3" -Engine Process -PortRange 24670-24679 }
        $err.FullyQualifiedErrorId | Should -BeLike 'StateStoreRefused,*'
        $err.Exception.Message | Should -Match 'certificate'
    }
}

Describe 'The auth member (user and password)' {
    AfterEach {
        foreach ($v in $Variables) { [Environment]::SetEnvironmentVariable($v, $Saved[$v]) }
        Remove-FleetPrefixes
    }

    It 'works as dyad with the password file' {
        $env:DYAD_PORTS_STATE = "etcd://$($TestEnv.EtcdAuth)$(New-FleetPrefix 'auth' 'Auth')"
        $env:DYAD_PORTS_ETCD_USER = 'dyad'; $env:DYAD_PORTS_ETCD_PASSWORD_FILE = "$Auth/dyad.password"
        (Request-DyadPort "${Prefix}a1" -Engine Process -PortRange 24680-24689).Port | Should -Be 24680
        (Get-DyadPortAllocation "${Prefix}a1").Port | Should -Be 24680
        Remove-DyadPortAllocation "${Prefix}a1"
    }

    It 'refuses a wrong password with StateStoreRefused' {
        $env:DYAD_PORTS_STATE = "etcd://$($TestEnv.EtcdAuth)$(New-FleetPrefix 'auth-wrong' 'Auth')"
        $wrong = Join-Path TestDrive: 'wrong.password'
        'not-the-password' | Set-Content $wrong
        $env:DYAD_PORTS_ETCD_USER = 'dyad'; $env:DYAD_PORTS_ETCD_PASSWORD_FILE = (Resolve-Path $wrong).ProviderPath
        $env:DYAD_PORTS_ETCD_TIMEOUT = '5'
        $err = Get-TerminatingError { Request-DyadPort "${Prefix}a2" -Engine Process -PortRange 24680-24689 }
        $err.FullyQualifiedErrorId | Should -BeLike 'StateStoreRefused,*'
        $err.Exception.Message | Should -Match 'password'
    }
}
