# Runspaces of one process share the module's engine clients. An EngineUnreachable in one runspace (which makes the
# session forget that endpoint) must not break another runspace's calls on a working engine, nor leave anything behind.
# ForEach-Object -Parallel: odd items call an endpoint whose socket does not exist, even items start and stop
# previews on the real docker test engine, all at once. Ports 23910-23949.
BeforeDiscovery { . (Join-Path $PSScriptRoot 'Common.ps1') }
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $ModulePath -Force
    Assert-EngineAnswers $TestEnv.Docker
    Remove-TestContainers Docker $TestEnv.Docker
    $script:App = Join-Path TestDrive: 'app'
    New-Item -ItemType Directory $App | Out-Null
    'pester' | Set-Content (Join-Path $App 'index.html')
    $script:App = (Resolve-Path $App).ProviderPath
}
AfterAll { Remove-TestContainers Docker $TestEnv.Docker }

Describe 'Runspaces sharing the engine clients' {
    It 'keeps the working runspaces working while others fail on a missing socket, and leaves nothing behind' {
        $null = New-TestState
        $missing = 'unix://' + (Join-Path ([IO.Path]::GetTempPath()) ("dyadports-missing-" + [guid]::NewGuid().ToString('N') + '.sock'))
        $image, $docker, $prefix, $module, $appPath = $TestEnv.Image, $TestEnv.Docker, $Prefix, $ModulePath, $App
        $results = 1..8 | ForEach-Object -ThrottleLimit 8 -Parallel {
            Import-Module $using:module
            $n = $_
            $out = [System.Collections.Generic.List[string]]::new()
            for ($round = 0; $round -lt 3; $round++) {
                if ($n % 2) {
                    try {
                        Request-DyadPort "$($using:prefix)rs-fail$n" -PortRange 23940-23949 -Engine Docker -EngineEndpoint $using:missing -ErrorAction Stop | Out-Null
                        $out.Add("fail$n unexpected success")
                    } catch {
                        $out.Add("fail$n $($_.FullyQualifiedErrorId.Split(',')[0])")
                    }
                } else {
                    try {
                        $app = "$($using:prefix)rs-ok$n"
                        $p = Start-DyadPreview $app -Path $using:appPath -Image $using:image -Command 'httpd -f -p "$PORT" -h /app' -PortRange 23910-23939 -Engine Docker -EngineEndpoint $using:docker -ErrorAction Stop
                        Stop-DyadPreview $app -Remove -Engine Docker -EngineEndpoint $using:docker -ErrorAction Stop | Out-Null
                        $out.Add("ok$n started $($p.Port)")
                    } catch {
                        $out.Add("ok$n failed $($_.FullyQualifiedErrorId): $_")
                    }
                }
            }
            $out
        }
        $results.Count | Should -Be 24
        $results | Where-Object { $_ -like 'fail*' } | ForEach-Object { $_ | Should -Match '^fail\d EngineUnreachable$' }
        $results | Where-Object { $_ -like 'ok*' } | ForEach-Object { $_ | Should -Match '^ok\d started \d+$' }
        $left = @(Invoke-EngineCli Docker ps -a --filter 'label=dyadports.managed=true' --format '{{.Names}}' 2>$null | Where-Object { $_ -like "*$($Prefix)rs-*" })
        $left | Should -BeNullOrEmpty
    }
}
