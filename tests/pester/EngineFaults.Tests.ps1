# Engine faults on PRIVATE engines (tests/pester/PrivateEngines.ps1), started and stopped by pid by this file.
# The engines of the table (a user's podman service and dockerd) are never stopped, restarted or reconfigured.
BeforeDiscovery { $script:CanRun = $IsLinux -and (id -u) -eq '0' }
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'PrivateEngines.ps1')
    Import-Module $ModulePath -Force
}

Describe 'A private <Engine> engine stops in the middle of a session' -Skip:(-not $CanRun) -ForEach @(
    @{ Engine = 'Podman'; Port = 22200 }
    @{ Engine = 'Docker'; Port = 22220 }
) {
    BeforeAll {
        $null = New-TestState
        $private = New-PrivateEngine $Engine
        $shared = ($Engines | Where-Object Engine -eq $Engine).Endpoint
        Start-PrivateEngine $private
    }
    AfterAll { Remove-PrivateEngine $private }

    It 'gives EngineUnreachable while it is down, then recovers without restarting pwsh' {
        $firstPid = $private.Pid
        Test-DyadPortAvailable $Port -Engine $Engine -EngineEndpoint $private.Endpoint | Should -BeTrue
        Stop-PrivateEngine $private
        Test-Path "/proc/$firstPid" | Should -BeFalse

        $err = { Test-DyadPortAvailable $Port -Engine $Engine -EngineEndpoint $private.Endpoint } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'EngineUnreachable,*'
        $err.CategoryInfo.Category | Should -Be 'ConnectionError'
        $err.TargetObject | Should -Be $private.Endpoint
        $err.Exception.Message | Should -BeLike "*$($private.Endpoint)*"
        # Only the private engine went down: the shared one still answers in the same session.
        Test-DyadPortAvailable $Port -Engine $Engine -EngineEndpoint $shared | Should -BeTrue

        Start-PrivateEngine $private
        $private.Pid | Should -Not -Be $firstPid
        Test-DyadPortAvailable $Port -Engine $Engine -EngineEndpoint $private.Endpoint | Should -BeTrue
        $allocation = Request-DyadPort "${Prefix}after-restart-$Engine" -Engine $Engine -EngineEndpoint $private.Endpoint -PortRange "$Port-$($Port + 10)"
        $allocation.Port | Should -Be $Port
        $allocation.Engine | Should -Be $Engine
    }
}
