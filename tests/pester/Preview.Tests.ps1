BeforeDiscovery { . (Join-Path $PSScriptRoot 'Common.ps1') }
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $ModulePath -Force
}

Describe 'Start-DyadPreview against <Engine>' -ForEach $Engines {
    BeforeAll {
        Assert-EngineAnswers $Endpoint
        $PSDefaultParameterValues = @{ '*-DyadPreview:EngineEndpoint' = $Endpoint; '*-DyadPreview:Engine' = $Engine; '*-DyadPortAllocation:Engine' = $Engine; '*-DyadPortAllocation:EngineEndpoint' = $Endpoint }
        $PSDefaultParameterValues.Remove('Remove-DyadPortAllocation:EngineEndpoint'); $PSDefaultParameterValues.Remove('Remove-DyadPortAllocation:Engine')
        $app = Join-Path TestDrive: 'app'
        New-Item -ItemType Directory $app | Out-Null
        'preview ok' | Set-Content (Join-Path $app 'index.html')
        $app = (Resolve-Path $app).ProviderPath
        Remove-TestContainers $Engine $Endpoint
        $null = New-TestState
    }
    AfterAll { Remove-TestContainers $Engine $Endpoint }

    It 'starts 56, 57 and 58 on the first three ports of the range from the pipeline, each answering HTTP with the binding ps shows' {
        $previews = "${Prefix}56", "${Prefix}57", "${Prefix}58" | Start-DyadPreview -Path $app -Image $Image -Command 'httpd -f -p "$PORT" -h /app' -PortRange 22100-22110
        $previews.Port | Should -Be @(22100, 22101, 22102)
        $previews[0].PSObject.TypeNames[0] | Should -Be 'DyadPorts.Preview'
        foreach ($p in $previews) {
            (Invoke-WebRequest "http://127.0.0.1:$($p.Port)/" -UseBasicParsing).Content.Trim() | Should -Be 'preview ok'
            Get-CliPorts $Engine $Endpoint $p.ContainerName | Should -Match "$($p.Port)->$($p.Port)/tcp"
        }
        (Get-DyadPortAllocation "${Prefix}56", "${Prefix}57", "${Prefix}58").Status | Should -Be @('Active', 'Active', 'Active')
    }

    It 'stops previews from the pipeline and releases their ports' {
        Get-DyadPortAllocation "${Prefix}5?" | Stop-DyadPreview -Remove
        Get-CliPorts $Engine $Endpoint "dyad-app-${Prefix}57" | Should -BeNullOrEmpty
        (Read-TestState).Count | Should -Be 0
        Test-DyadPortAvailable 22100, 22101, 22102 | Should -Be @($true, $true, $true)
    }
}

Describe 'The process engine' -Skip:(-not $IsLinux) {
    BeforeAll {
        $null = New-TestState
        $app = (Resolve-Path (New-Item -ItemType Directory (Join-Path TestDrive: 'papp'))).ProviderPath
        'process ok' | Set-Content (Join-Path $app 'index.html')
    }
    It 'is chosen by CONTAINERIZATION_ENABLED=false and serves on the next free port' {
        $env:CONTAINERIZATION_ENABLED = 'false'
        $listener = [System.Net.Sockets.TcpListener]::new([ipaddress]::Any, 26700); $listener.Start()
        try {
            $p = Start-DyadPreview "${Prefix}pe" -Path $app -Command 'exec busybox httpd -f -p "$PORT" -h .' -PortRange 26700-26705
            $p.Engine | Should -Be 'Process'
            $p.Port | Should -Be 26701
            (Invoke-WebRequest $p.Url -UseBasicParsing).Content.Trim() | Should -Be 'process ok'
            (Get-DyadPortAllocation "${Prefix}pe").Status | Should -Be 'Active'
            Stop-DyadPreview "${Prefix}pe" -PassThru | Select-Object -ExpandProperty State | Should -Be 'exited'
            Test-DyadPortAvailable 26701 | Should -BeTrue
        } finally {
            $listener.Stop(); Remove-Item Env:CONTAINERIZATION_ENABLED
        }
    }

    It 'reports a -Path on a drive that does not exist as PreviewPathNotFound for each piped app, not as PowerShell''s own error' {
        $null = "${Prefix}pd1", "${Prefix}pd2" | Start-DyadPreview -Path 'NoSuchDyadDrive:/app' -Engine Process -PortRange 26706-26709 -ErrorVariable pathErrors -ErrorAction SilentlyContinue
        $pathErrors.Count | Should -Be 2 # non-terminating: the second app was tried too
        $pathErrors.ForEach({ $_.FullyQualifiedErrorId }) | Should -Be (@('PreviewPathNotFound,DyadPorts.Commands.StartDyadPreviewCommand') * 2)
        $pathErrors.ForEach({ $_.CategoryInfo.Category }) | Should -Be @('ObjectNotFound', 'ObjectNotFound')
        $pathErrors.ForEach({ $_.TargetObject }) | Should -Be @('NoSuchDyadDrive:/app', 'NoSuchDyadDrive:/app')
        $pathErrors[0].Exception.Message | Should -BeLike "App ${Prefix}pd1: -Path 'NoSuchDyadDrive:/app' names no folder of this machine:*"
        (Read-TestState).Keys | Should -Not -Contain "${Prefix}pd1"
    }
}
