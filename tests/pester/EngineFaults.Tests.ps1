BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $ModulePath -Force
    $podman = $Engines | Where-Object Engine -eq 'Podman'
    Assert-EngineAnswers $podman.Endpoint
    $setup = Join-Path $PSScriptRoot '../../tools/setup-engines.sh'
}
AfterAll { & bash $setup 2>&1 | Out-Null }   # whatever happened, leave podman running for the next files

Describe 'The engine stops in the middle of a session' -Skip:(-not $IsLinux -or (id -u) -ne '0') {
    It 'gives EngineUnreachable while podman is down, then recovers without restarting pwsh' {
        $null = New-TestState
        Test-DyadPortAvailable 36000 -Engine Podman -EngineEndpoint $podman.Endpoint | Should -BeTrue
        & pkill -f 'podman system service'
        Start-Sleep -Seconds 1
        $err = { Test-DyadPortAvailable 36000 -Engine Podman -EngineEndpoint $podman.Endpoint } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'EngineUnreachable,*'
        $err.TargetObject | Should -Be $podman.Endpoint
        & bash $setup 2>&1 | Out-Null
        $LASTEXITCODE | Should -Be 0
        Test-DyadPortAvailable 36000 -Engine Podman -EngineEndpoint $podman.Endpoint | Should -BeTrue
        (Request-DyadPort after-restart -Engine Podman -EngineEndpoint $podman.Endpoint -PortRange 36000-36010).Port | Should -Be 36000
    }
}
