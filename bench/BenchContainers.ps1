# Created, never-started containers for the scale benches (bench/Measure-Scale.ps1, bench/Measure-OneShotCreated.ps1),
# dot-sourced by them. Over the API (a Docker.DotNet client), 8 concurrent calls at a time; each container runs the
# test image, carries this run's label ($TestEnv from tools/TestEnv.ps1) and publishes its own host port. Removal
# takes this run's label only.

# $Containers: one @{ Name = ...; Port = ... } per container.
function New-BenchContainers($Client, [object[]] $Containers) {
    if (-not $Containers) { return }
    for ($i = 0; $i -lt $Containers.Count; $i += 8) {
        $tasks = foreach ($c in $Containers[$i..([math]::Min($i + 8, $Containers.Count) - 1)]) {
            $key = "$($c.Port)/tcp"
            $p = [Docker.DotNet.Models.CreateContainerParameters]::new()
            $p.Name = $c.Name
            $p.Image = $TestEnv.Image
            $p.Cmd = [System.Collections.Generic.List[string]]@('httpd', '-f', '-p', "$($c.Port)", '-h', '/www')
            $p.Labels = [System.Collections.Generic.Dictionary[string, string]]::new()
            $p.Labels[$TestEnv.RunLabel] = $TestEnv.RunId
            $p.ExposedPorts = [System.Collections.Generic.Dictionary[string, Docker.DotNet.Models.EmptyStruct]]::new()
            $p.ExposedPorts[$key] = [Docker.DotNet.Models.EmptyStruct]::new()
            $p.HostConfig = [Docker.DotNet.Models.HostConfig]::new()
            $p.HostConfig.PortBindings = [System.Collections.Generic.Dictionary[string, System.Collections.Generic.IList[Docker.DotNet.Models.PortBinding]]]::new()
            $p.HostConfig.PortBindings[$key] = [System.Collections.Generic.List[Docker.DotNet.Models.PortBinding]]@([Docker.DotNet.Models.PortBinding]@{ HostPort = "$($c.Port)" })
            $Client.Containers.CreateContainerAsync($p)
        }
        [System.Threading.Tasks.Task]::WaitAll([System.Threading.Tasks.Task[]]@($tasks))
    }
}

# Removes every container carrying this run's label (and only those); returns how many.
function Remove-BenchContainersOfRun($Client) {
    $filter = [System.Collections.Generic.Dictionary[string, System.Collections.Generic.IDictionary[string, bool]]]::new()
    $filter['label'] = [System.Collections.Generic.Dictionary[string, bool]]::new()
    $filter['label']["$($TestEnv.RunLabel)=$($TestEnv.RunId)"] = $true
    $ids = @($Client.Containers.ListContainersAsync([Docker.DotNet.Models.ContainersListParameters]@{ All = $true; Filters = $filter }).GetAwaiter().GetResult() | ForEach-Object ID)
    for ($i = 0; $i -lt $ids.Count; $i += 8) {
        $tasks = foreach ($id in $ids[$i..([math]::Min($i + 8, $ids.Count) - 1)]) { $Client.Containers.RemoveContainerAsync($id, [Docker.DotNet.Models.ContainerRemoveParameters]@{ Force = $true }) }
        [System.Threading.Tasks.Task]::WaitAll([System.Threading.Tasks.Task[]]@($tasks))
    }
    $ids.Count
}
