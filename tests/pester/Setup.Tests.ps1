# The rules of tools/setup-engines.sh and of CLI configuration in tests (issue 10).
BeforeDiscovery { $script:IsRoot = $IsLinux -and (id -u) -eq '0' }
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $setup = (Resolve-Path (Join-Path $PSScriptRoot '../../tools/setup-engines.sh')).ProviderPath
    function Get-ConfSum { if (Test-Path /etc/containers/containers.conf) { (Get-FileHash /etc/containers/containers.conf).Hash } else { 'absent' } }
}

Describe 'tools/setup-engines.sh' -Skip:(-not $IsRoot) {
    It 'fails as non-root under CI=true, and only warns without CI' {
        $copy = Join-Path ([IO.Path]::GetTempPath()) "dyadports-setup-$([guid]::NewGuid().ToString('N'))"
        New-Item -ItemType Directory -Path "$copy/tools" | Out-Null
        Copy-Item $setup, (Join-Path (Split-Path $setup) 'test-engines.env'), (Join-Path (Split-Path $setup) 'test-engines.sh') "$copy/tools"
        & chmod -R a+rX $copy
        try {
            $out = & env CI=true setpriv --reuid=65534 --regid=65534 --clear-groups bash "$copy/tools/setup-engines.sh" 2>&1
            $LASTEXITCODE | Should -Not -Be 0
            ($out -join "`n") | Should -BeLike '*CI=true and not root*'   # refused for the right reason, not a missing file
            & env -u CI setpriv --reuid=65534 --regid=65534 --clear-groups bash "$copy/tools/setup-engines.sh" 2>&1 | Out-Null
            $LASTEXITCODE | Should -Be 0
        } finally { Remove-Item $copy -Recurse -Force }
    }

    It 'uses the answering engines as they are and leaves containers.conf alone on a second run' {
        $before = Get-ConfSum
        $out = & bash $setup 2>&1
        $LASTEXITCODE | Should -Be 0
        ($out -join "`n") | Should -BeLike '*podman answers at*used as it is*'
        ($out -join "`n") | Should -BeLike '*dockerd answers at*used as it is*'
        Get-ConfSum | Should -Be $before
        Get-Content (Join-Path $TestEnv.State 'image') | Should -Be $TestEnv.Image
        $TestEnv.Image | Should -Match '^localhost/dyadports-test:[0-9a-f]{12}$'
    }
}

Describe 'CLI configuration in tests' -Skip:(-not $IsRoot) {
    It 'adds a podman connection and a docker context only to a temporary HOME, DOCKER_CONFIG and CONTAINERS_CONF' {
        $before = Get-ConfSum
        $name = "$($Prefix)conn"
        Invoke-WithTempCliConfig {
            Invoke-EngineCli Podman system connection add $name unix:///tmp/dyadports-nowhere.sock 2>&1 | Out-Null
            $LASTEXITCODE | Should -Be 0
            Get-Content $env:CONTAINERS_CONF -Raw | Should -BeLike "*$name*"
            & docker context create $name --docker host=unix:///tmp/dyadports-nowhere.sock 2>&1 | Out-Null
            $LASTEXITCODE | Should -Be 0
            Get-ChildItem -Recurse $env:DOCKER_CONFIG -File | Should -Not -BeNullOrEmpty
        }
        Get-ConfSum | Should -Be $before
        (& docker context ls --format '{{.Name}}') | Should -Not -Contain $name
        (Invoke-EngineCli Podman system connection list --format '{{.Name}}' 2>$null) | Should -Not -Contain $name
    }
}
