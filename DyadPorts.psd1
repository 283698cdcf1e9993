# The module manifest's source of truth, and the one version source: build.ps1 passes ModuleVersion to the assemblies,
# copies this file into out/DyadPorts/ and writes ReleaseNotes there from CHANGELOG.md's section for ModuleVersion.
@{
    RootModule           = 'DyadPorts.dll'
    # Imported before RootModule: puts the module's dependencies (deps/) in their own AssemblyLoadContext.
    NestedModules        = @('DyadPorts.Loader.dll')
    ModuleVersion        = '0.7.0'
    GUID                 = '6f93cf89-0989-4853-8088-8fe53b66c738'
    Author               = 'DyadPorts contributors'
    CompanyName          = 'DyadPorts'
    Copyright            = '(c) DyadPorts contributors. MIT License.'
    Description          = 'Reliable host ports for app previews: allocations validated against the container engine (Docker or Podman) and the host''s listening sockets, with fallback, cross-process locking and race-safe preview start.'
    PowerShellVersion    = '7.6'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('DyadPorts.Format.ps1xml')
    CmdletsToExport      = @(
        'Copy-DyadPortState'
        'Export-DyadPortMetrics'
        'Get-DyadPortAgent'
        'Get-DyadPortAllocation'
        'Get-DyadPortHistory'
        'Get-DyadPortUsage'
        'Request-DyadPort'
        'Remove-DyadPortAllocation'
        'Start-DyadPortAgent'
        'Start-DyadPreview'
        'Stop-DyadPreview'
        'Test-DyadPortAvailable'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Docker', 'Podman', 'Ports', 'Containers', 'Dyad', 'Linux', 'PSEdition_Core')
            ReleaseNotes = ''   # filled in the built manifest from CHANGELOG.md by build.ps1
        }
    }
}
