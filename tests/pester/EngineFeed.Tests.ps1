# The engine view (DYAD_PORTS_ENGINE_FEED, issue 18) across an engine restart, on PRIVATE engines
# (tests/pester/PrivateEngines.ps1) started and stopped by pid by this file. Ports 28300-28399.
# A warm session's view is live; the engine is restarted; a container another client creates on a port of the range
# (raw API, Docker.DotNet) must be passed over by the next allocation: the view lists again after its stream ended.
BeforeDiscovery { $script:CanRun = $IsLinux -and (id -u) -eq '0' }
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'PrivateEngines.ps1')
    Import-Module $ModulePath -Force
    # The test's own Docker.DotNet (another client, as another operator's would be), loaded from a copy outside the
    # module: the module's copies stay in its own load context only (Module.Tests checks every assembly under it).
    Copy-Item (Join-Path $ModulePath 'deps/Docker.DotNet.dll') (Join-Path $TestDrive 'Docker.DotNet.dll')
    Add-Type -Path (Join-Path $TestDrive 'Docker.DotNet.dll')
    $script:session = [DyadPorts.Infrastructure.ModuleSession]::Current

    function Wait-ViewLive([string] $Endpoint, [bool] $Live = $true) {
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        while ($session.Views.IsLive($Endpoint) -ne $Live -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        $session.Views.IsLive($Endpoint)
    }

    # The private dockerd has a data root of its own: the test image is imported into it, through the API.
    function Import-TestImage([Docker.DotNet.DockerClient] $Client) {
        $repo, $tag = $TestEnv.Image -split ':', 2
        $tar = [IO.File]::OpenRead((Join-Path $TestEnv.State 'image.tar'))
        try {
            $parameters = [Docker.DotNet.Models.ImagesCreateParameters]@{ FromSrc = '-'; Repo = $repo; Tag = $tag }
            $Client.Images.CreateImageAsync($parameters, $tar, $null, [Progress[Docker.DotNet.Models.JSONMessage]]::new()).GetAwaiter().GetResult()
        } finally { $tar.Dispose() }
    }

    # A Describe's private engine, its client and the containers it created, removed also when its BeforeAll failed
    # after the engine started.
    function Remove-PrivateEngineOfDescribe([hashtable] $Private, $Client, $Created) {
        try {
            foreach ($id in $Created) {
                try { $Client.Containers.RemoveContainerAsync($id, [Docker.DotNet.Models.ContainerRemoveParameters]@{ Force = $true }).GetAwaiter().GetResult() } catch { }
            }
            if ($Client) { $Client.Dispose() }
        } finally {
            if ($Private) { Remove-PrivateEngine $Private }
        }
    }

    function New-RawContainer([Docker.DotNet.DockerClient] $Client, [string] $Name, [int] $Port) {
        $key = "$Port/tcp"
        $binding = [Docker.DotNet.Models.PortBinding]@{ HostPort = [string]$Port }
        $bindings = [Collections.Generic.Dictionary[string, Collections.Generic.IList[Docker.DotNet.Models.PortBinding]]]::new()
        $bindings[$key] = [Collections.Generic.List[Docker.DotNet.Models.PortBinding]]@($binding)
        $labels = [Collections.Generic.Dictionary[string, string]]::new(); $labels[$TestEnv.RunLabel] = $TestEnv.RunId
        $parameters = [Docker.DotNet.Models.CreateContainerParameters]@{ Name = $Name; Image = $TestEnv.Image; Labels = $labels; Cmd = [Collections.Generic.List[string]]@("sleep", "600") }
        $parameters.HostConfig = [Docker.DotNet.Models.HostConfig]@{ PortBindings = $bindings }
        $Client.Containers.CreateContainerAsync($parameters).GetAwaiter().GetResult().ID
    }
}

Describe 'The engine view of a private <Engine> engine restarted in the middle of a session' -Skip:(-not $CanRun) -ForEach @(
    @{ Engine = 'Podman'; Port = 28300 }
    @{ Engine = 'Docker'; Port = 28320 }
) {
    BeforeAll {
        $null = New-TestState
        Remove-Item Env:DYAD_PORTS_ENGINE_FEED -ErrorAction SilentlyContinue   # the default: on
        $private = New-PrivateEngine $Engine
        Start-PrivateEngine $private
        $client = [Docker.DotNet.DockerClientConfiguration]::new([Uri]$private.Endpoint).CreateClient()
        if ($Engine -eq 'Docker') { Import-TestImage $client }
        $created = [Collections.Generic.List[string]]::new()
    }
    AfterAll { Remove-PrivateEngineOfDescribe $private $client $created }

    It 'lists again after the restart: a container created then is passed over' {
        $range = "$Port-$($Port + 3)"
        (Request-DyadPort "${Prefix}feed-warm-$Engine" -Engine $Engine -EngineEndpoint $private.Endpoint -PortRange $range).Port | Should -Be $Port
        $null = Request-DyadPort "${Prefix}feed-warm-$Engine" -Engine $Engine -EngineEndpoint $private.Endpoint -PortRange $range   # the second read starts the view
        Wait-ViewLive $private.Endpoint | Should -BeTrue
        $view = $session.Views.For($private.Endpoint)
        $lists = $view.Lists

        $firstPid = $private.Pid
        Stop-PrivateEngine $private
        Wait-ViewLive $private.Endpoint $false | Should -BeFalse   # its stream ended with the engine: it does not answer
        Start-PrivateEngine $private
        $private.Pid | Should -Not -Be $firstPid
        $created.Add((New-RawContainer $client "${Prefix}feed-after-restart-$Engine" ($Port + 1)))
        # The view may have reconnected before the create: its event is then in within the stated bound.
        Start-Sleep -Milliseconds ((Get-CoreType 'DyadPorts.Core.Engines.ViewTiming')::FreshnessBound.TotalMilliseconds)

        $allocation = Request-DyadPort "${Prefix}feed-next-$Engine" -Engine $Engine -EngineEndpoint $private.Endpoint -PortRange $range
        $allocation.Port | Should -Be ($Port + 2)
        # And once the view is live again, it has listed again and still passes over the container.
        Wait-ViewLive $private.Endpoint | Should -BeTrue
        $view.Lists | Should -BeGreaterThan $lists
        (Request-DyadPort "${Prefix}feed-last-$Engine" -Engine $Engine -EngineEndpoint $private.Endpoint -PortRange $range).Port | Should -Be ($Port + 3)
    }
}

# Podman 4.3 keeps its events in a file that it truncates to its newer half at a size limit (events_logfile_max_size,
# 1,000,000 bytes by default), and then ends every event stream: the view's stream with it. Here a private podman keeps
# its events in a file of its own, with a limit of 16 kB, so that the test's own renames reach it in seconds; the shared
# podman's file is never touched.
Describe 'The engine view of a private podman that truncates its events file in the middle of a session' -Skip:(-not $CanRun) {
    BeforeAll {
        $null = New-TestState
        Remove-Item Env:DYAD_PORTS_ENGINE_FEED -ErrorAction SilentlyContinue   # the default: on
        $private = New-PrivateEngine Podman
        $eventsFile = Join-Path $private.Directory 'events.log'
        $conf = Join-Path $private.Directory 'containers.conf'
        (Get-Content $TestEnv.ContainersConf) -replace '^\[engine\]$', "[engine]`nevents_logger = `"file`"`nevents_logfile_path = `"$eventsFile`"`nevents_logfile_max_size = 16384" |
            Set-Content $conf
        if (-not (Select-String -LiteralPath $conf -Pattern '^events_logfile_max_size = 16384$' -Quiet)) { throw "no [engine] section in $($TestEnv.ContainersConf) to add the events file's settings to" }
        Start-PrivateEngine $private -ContainersConf $conf
        $client = [Docker.DotNet.DockerClientConfiguration]::new([Uri]$private.Endpoint).CreateClient()
        $created = [Collections.Generic.List[string]]::new()
        $Port = 28340
    }
    AfterAll { Remove-PrivateEngineOfDescribe $private $client $created }

    It 'lists again after the truncation: a container created then is passed over' {
        $range = "$Port-$($Port + 3)"
        (Request-DyadPort "${Prefix}feed-trunc-warm" -Engine Podman -EngineEndpoint $private.Endpoint -PortRange $range).Port | Should -Be $Port
        $null = Request-DyadPort "${Prefix}feed-trunc-warm" -Engine Podman -EngineEndpoint $private.Endpoint -PortRange $range   # the second read starts the view
        Wait-ViewLive $private.Endpoint | Should -BeTrue
        $view = $session.Views.For($private.Endpoint)
        $lists = $view.Lists

        # Renames of a container outside the range, until the file shrinks: podman truncated it.
        $busy = New-RawContainer $client "${Prefix}feed-trunc-busy" ($Port + 10)
        $created.Add($busy)
        $size = (Get-Item $eventsFile).Length
        $renames = 0
        while ($renames -lt 400) {
            $renames++
            $client.Containers.RenameContainerAsync($busy, [Docker.DotNet.Models.ContainerRenameParameters]@{ NewName = "${Prefix}feed-trunc-busy-$renames" }, [Threading.CancellationToken]::None).GetAwaiter().GetResult()
            $now = (Get-Item $eventsFile).Length
            if ($now -lt $size) { break }
            $size = $now
        }
        $now | Should -BeLessThan $size -Because "podman never truncated its events file in $renames renames (last size $now bytes): the test would prove nothing"

        $created.Add((New-RawContainer $client "${Prefix}feed-after-trunc" ($Port + 1)))
        # The view may have listed again before the create: its event is then in within the stated bound.
        Start-Sleep -Milliseconds ((Get-CoreType 'DyadPorts.Core.Engines.ViewTiming')::FreshnessBound.TotalMilliseconds)

        (Request-DyadPort "${Prefix}feed-trunc-next" -Engine Podman -EngineEndpoint $private.Endpoint -PortRange $range).Port | Should -Be ($Port + 2)
        # Podman ended the view's stream at the truncation: once live again, the view has listed again.
        Wait-ViewLive $private.Endpoint | Should -BeTrue
        $view.Lists | Should -BeGreaterThan $lists -Because 'podman ends every event stream when it truncates its events file, and the view lists again on every reconnect'
        (Request-DyadPort "${Prefix}feed-trunc-last" -Engine Podman -EngineEndpoint $private.Endpoint -PortRange $range).Port | Should -Be ($Port + 3)
    }
}
