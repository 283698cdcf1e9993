@{
    RootModule        = 'FloorModule.dll'
    ModuleVersion     = '1.0.0'
    GUID              = 'c0b1f3a2-5d1e-4d8e-9a56-2f7e0c1d9b41'
    Description       = 'The floor of a binary module one-shot, for bench/Measure-OneShot.ps1 -Floor.'
    PowerShellVersion = '7.6'
    FormatsToProcess  = @('FloorModule.Format.ps1xml')
    CmdletsToExport   = @('Request-FloorPort')
    FunctionsToExport = @()
    VariablesToExport = @()
    AliasesToExport   = @()
}
