using System.Management.Automation;

namespace DyadPorts.Loader
{
    /// <summary>
    /// Runs when PowerShell imports (and removes) DyadPorts.Loader.dll, the manifest's nested module, which PowerShell
    /// imports before the cmdlets: from then on the module's dependencies load in their own
    /// <see cref="DyadPortsLoadContext"/> (PowerShell's "Resolving PowerShell module assembly dependency conflicts").
    /// </summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        public void OnImport()
        {
            ModuleDependencies.Attach();
            TypeNames.Publish(ModuleDependencies.Load(ModuleDependencies.Core));
        }

        public void OnRemove(PSModuleInfo psModuleInfo) => ModuleDependencies.Detach();
    }
}
