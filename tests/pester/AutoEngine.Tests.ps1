# The Auto path as a user meets it: no -Engine, no -EngineEndpoint; only the environment (DOCKER_HOST,
# CONTAINER_HOST, CONTAINERIZATION_ENGINE) and the default sockets, in a fresh pwsh each time.
# Each engine holds a created (never started) container of this run: docker on 23900, podman on 23901. A created
# container binds no host socket, so only the engine that was really asked knows the port is taken.
# The default-socket cases run whatever the table's endpoints are: the child gets a private HOME and XDG_RUNTIME_DIR
# whose user sockets ($XDG_RUNTIME_DIR/podman/podman.sock, ~/.docker/run/docker.sock) are links to the test engines.
# A system socket (/run/podman/podman.sock, /var/run/docker.sock, /run/docker.sock) is probed before those; one that
# exists must then be the test engine itself (EngineHost.SameEngine), else BeforeAll fails rather than test the wrong engine.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Cases = @(
        @{ Case = 'DOCKER_HOST at dockerd'; Vars = @{ DOCKER_HOST = $TestEnv.Docker }; Expect = 'Docker' }
        @{ Case = 'DOCKER_HOST at podman'; Vars = @{ DOCKER_HOST = $TestEnv.Podman }; Expect = 'Podman' }
        @{ Case = 'CONTAINER_HOST at podman'; Vars = @{ CONTAINER_HOST = $TestEnv.Podman }; Expect = 'Podman' }
        @{ Case = 'CONTAINERIZATION_ENGINE=docker, default sockets'; Vars = @{ CONTAINERIZATION_ENGINE = 'docker' }; Expect = 'Docker' }
        @{ Case = 'CONTAINERIZATION_ENGINE=podman, default sockets'; Vars = @{ CONTAINERIZATION_ENGINE = 'podman' }; Expect = 'Podman' }
        @{ Case = 'nothing set, the first default socket that answers (podman first)'; Vars = @{}; Expect = 'Podman' }
    )
}
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    foreach ($e in $Engines) { Assert-EngineAnswers $e.Endpoint; Remove-TestContainers $e.Engine $e.Endpoint }
    New-TestContainer Docker "${Prefix}auto-docker" 23900 -NoStart | Out-Null
    New-TestContainer Podman "${Prefix}auto-podman" 23901 -NoStart | Out-Null
    Import-Module $ModulePath
    $script:AutoHome = Join-Path ([IO.Path]::GetTempPath()) ("dyadports-auto-" + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path (Join-Path $AutoHome 'xdg/podman'), (Join-Path $AutoHome '.docker/run') | Out-Null
    foreach ($link in @(
            @{ Path = Join-Path $AutoHome 'xdg/podman/podman.sock'; Endpoint = $TestEnv.Podman; System = @('/run/podman/podman.sock') }
            @{ Path = Join-Path $AutoHome '.docker/run/docker.sock'; Endpoint = $TestEnv.Docker; System = @('/var/run/docker.sock', '/run/docker.sock') })) {
        $link.Endpoint | Should -BeLike 'unix://*' -Because 'the default sockets are unix sockets'
        New-Item -ItemType SymbolicLink -Path $link.Path -Target ($link.Endpoint -replace '^unix://', '') | Out-Null
        foreach ($system in $link.System | Where-Object { Test-Path $_ }) {
            (Get-CoreType 'DyadPorts.Core.Engines.EngineHost')::SameEngine("unix://$system", $link.Endpoint) |
                Should -BeTrue -Because "the system socket $system is probed first, so it must be the test engine $($link.Endpoint)"
        }
    }
}
AfterAll {
    foreach ($e in $Engines) { Remove-TestContainers $e.Engine $e.Endpoint }
    if ($AutoHome) { Remove-Item -LiteralPath $AutoHome -Recurse -Force -ErrorAction SilentlyContinue }
}

Describe 'The Auto path' {
    It 'with <Case> asks <Expect>, and only <Expect>' -ForEach $Cases {
        $state = New-TestState
        $set = ($Vars.GetEnumerator() | ForEach-Object { "`$env:$($_.Key) = '$($_.Value)'" }) -join "`n"
        $script = @"
foreach (`$v in 'DOCKER_HOST', 'CONTAINER_HOST', 'CONTAINERIZATION_ENGINE', 'CONTAINERIZATION_ENABLED') { Remove-Item "Env:`$v" -ErrorAction SilentlyContinue }
`$env:DYAD_PORTS_STATE = '$state'
`$env:HOME = '$AutoHome'
`$env:XDG_RUNTIME_DIR = '$AutoHome/xdg'
`$env:DOCKER_CONFIG = '$AutoHome/.docker'
`$env:CONTAINERS_CONF = '$AutoHome/containers.conf'
`$env:PODMAN_CONNECTIONS_CONF = '$AutoHome/podman-connections.json'
$set
`$s = Test-DyadPortAvailable 23900, 23901 -Detailed
`$a = Request-DyadPort '${Prefix}auto' -PortRange 23900-23905
"`$(`$a.Engine) `$(`$a.Port) `$(`$s[0].Available) `$(`$s[1].Available) `$(`$s[0].HeldBy)|`$(`$s[1].HeldBy)"
"@
        $out = @(Invoke-ChildPwsh $script)[-1]
        $engine, $port, $dockerFree, $podmanFree, $heldBy = $out -split ' ', 5
        $engine | Should -Be $Expect -Because $out
        if ($Expect -eq 'Docker') {
            $port | Should -Be '23901'   # 23900 is held in dockerd; podman's 23901 is unknown to it
            $dockerFree, $podmanFree | Should -Be 'False', 'True'
            $heldBy | Should -BeLike "container ${Prefix}auto-docker (created)|*"
        } else {
            $port | Should -Be '23900'
            $dockerFree, $podmanFree | Should -Be 'True', 'False'
            $heldBy | Should -BeLike "*|container ${Prefix}auto-podman (created)"
        }
    }
}
