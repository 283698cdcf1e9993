using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;

namespace DyadPorts.Loader
{
    /// <summary>
    /// The module's own load context: every assembly in the module's deps/ folder (DyadPorts.Core and the third-party
    /// libraries it uses) binds here, whatever versions PowerShell or another module put in the default context.
    /// Anything not in deps/ (the framework, System.Management.Automation) is left to the default context, so the
    /// module shares those with pwsh. Not collectible: an assembly PowerShell has bound types of never unloads (and a
    /// collectible context would ignore ReadyToRun code).
    /// </summary>
    internal sealed class DyadPortsLoadContext : AssemblyLoadContext
    {
        internal const string ContextName = "DyadPorts";

        private readonly IReadOnlyList<string> _directories;

        /// <param name="directories">Where to look, first match wins: the ReadyToRun folder of this platform, then deps/.</param>
        internal DyadPortsLoadContext(IReadOnlyList<string> directories)
            : base(ContextName, isCollectible: false)
        {
            _directories = directories;
        }

        /// <summary>The path of <paramref name="name"/> in the first folder that has it, or null when none has.</summary>
        internal string PathOf(AssemblyName name)
        {
            if (string.IsNullOrEmpty(name.Name)) { return null; }
            foreach (string directory in _directories)
            {
                string path = Path.Combine(directory, name.Name + ".dll");
                if (File.Exists(path)) { return path; }
            }
            return null;
        }

        protected override Assembly Load(AssemblyName assemblyName)
        {
            string path = PathOf(assemblyName);
            return path is null ? null : LoadFromAssemblyPath(path);
        }
    }
}
