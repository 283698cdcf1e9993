# Dot-sourced by the docker probes of bench section 7 (Measure-FeedOffParts, Measure-FeedOffSteady): from the repository
# root, imports the built module and the test environment, and gives $ep (the test dockerd), $floor (a Docker.DotNet
# client in the default load context: the bench's "one list") and $lp (the list's parameters, every container).
$ErrorActionPreference = 'Stop'
Set-Location (Join-Path $PSScriptRoot '..')
. ./tools/TestEnv.ps1
Import-Module ./out/DyadPorts -Force
Add-Type -Path ./out/DyadPorts/deps/Docker.DotNet.dll
. ./bench/BenchContainers.ps1
. ./bench/BenchState.ps1
$ep = $TestEnv.Docker
$floor = [Docker.DotNet.DockerClientConfiguration]::new([uri]$ep).CreateClient()
$lp = [Docker.DotNet.Models.ContainersListParameters]@{ All = $true }
