# The Auto path as a user meets it: no -Engine, no -EngineEndpoint; only the environment (DOCKER_HOST,
# CONTAINER_HOST, CONTAINERIZATION_ENGINE) and the default sockets, in a fresh pwsh each time.
# Each engine holds a created (never started) container of this run: docker on 22300, podman on 22301. A created
# container binds no host socket, so only the engine that was really asked knows the port is taken.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Cases = @(
        @{ Case = 'DOCKER_HOST at dockerd'; Vars = @{ DOCKER_HOST = $TestEnv.Docker }; Expect = 'Docker'; NeedsDefault = $false }
        @{ Case = 'DOCKER_HOST at podman'; Vars = @{ DOCKER_HOST = $TestEnv.Podman }; Expect = 'Podman'; NeedsDefault = $false }
        @{ Case = 'CONTAINER_HOST at podman'; Vars = @{ CONTAINER_HOST = $TestEnv.Podman }; Expect = 'Podman'; NeedsDefault = $false }
        @{ Case = 'CONTAINERIZATION_ENGINE=docker, default sockets'; Vars = @{ CONTAINERIZATION_ENGINE = 'docker' }; Expect = 'Docker'; NeedsDefault = $true }
        @{ Case = 'CONTAINERIZATION_ENGINE=podman, default sockets'; Vars = @{ CONTAINERIZATION_ENGINE = 'podman' }; Expect = 'Podman'; NeedsDefault = $true }
        @{ Case = 'nothing set, the first default socket that answers (podman first)'; Vars = @{}; Expect = 'Podman'; NeedsDefault = $true }
    )
}
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    foreach ($e in $Engines) { Assert-EngineAnswers $e.Endpoint; Remove-TestContainers $e.Engine $e.Endpoint }
    New-TestContainer Docker "${Prefix}auto-docker" 22300 -NoStart | Out-Null
    New-TestContainer Podman "${Prefix}auto-podman" 22301 -NoStart | Out-Null
    # The default-socket cases mean something only when the table's endpoints are the default sockets.
    $script:OnDefaults = $TestEnv.Docker -in 'unix:///var/run/docker.sock', 'unix:///run/docker.sock' -and $TestEnv.Podman -eq 'unix:///run/podman/podman.sock'
}
AfterAll { foreach ($e in $Engines) { Remove-TestContainers $e.Engine $e.Endpoint } }

Describe 'The Auto path' {
    It 'with <Case> asks <Expect>, and only <Expect>' -ForEach $Cases {
        if ($NeedsDefault -and -not $OnDefaults) {
            Set-ItResult -Skipped -Because "the table's endpoints ($($TestEnv.Docker), $($TestEnv.Podman)) are not the default sockets"
            return
        }
        $state = New-TestState
        $set = ($Vars.GetEnumerator() | ForEach-Object { "`$env:$($_.Key) = '$($_.Value)'" }) -join "`n"
        $script = @"
foreach (`$v in 'DOCKER_HOST', 'CONTAINER_HOST', 'CONTAINERIZATION_ENGINE', 'CONTAINERIZATION_ENABLED') { Remove-Item "Env:`$v" -ErrorAction SilentlyContinue }
`$env:DYAD_PORTS_STATE = '$state'
$set
`$s = Test-DyadPortAvailable 22300, 22301 -Detailed
`$a = Request-DyadPort '${Prefix}auto' -PortRange 22300-22305
"`$(`$a.Engine) `$(`$a.Port) `$(`$s[0].Available) `$(`$s[1].Available) `$(`$s[0].HeldBy)|`$(`$s[1].HeldBy)"
"@
        $out = @(Invoke-ChildPwsh $script)[-1]
        $engine, $port, $dockerFree, $podmanFree, $heldBy = $out -split ' ', 5
        $engine | Should -Be $Expect -Because $out
        if ($Expect -eq 'Docker') {
            $port | Should -Be '22301'   # 22300 is held in dockerd; podman's 22301 is unknown to it
            $dockerFree, $podmanFree | Should -Be 'False', 'True'
            $heldBy | Should -BeLike "container ${Prefix}auto-docker (created)|*"
        } else {
            $port | Should -Be '22300'
            $dockerFree, $podmanFree | Should -Be 'True', 'False'
            $heldBy | Should -BeLike "*|container ${Prefix}auto-podman (created)"
        }
    }
}
