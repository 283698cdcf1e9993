using System.IO;
using System.Reflection;
using System.Runtime.Loader;

namespace DyadPorts.Loader
{
    /// <summary>
    /// The module's own load context: every assembly in the module's deps/ folder (DyadPorts.Core and the third-party
    /// libraries it uses) binds here, whatever versions PowerShell or another module put in the default context.
    /// Anything not in deps/ (the framework, System.Management.Automation) is left to the default context, so the
    /// module shares those with pwsh. Not collectible: an assembly PowerShell has bound types of never unloads.
    /// </summary>
    internal sealed class DyadPortsLoadContext : AssemblyLoadContext
    {
        internal const string ContextName = "DyadPorts";

        private readonly string _directory;

        internal DyadPortsLoadContext(string directory)
            : base(ContextName, isCollectible: false)
        {
            _directory = directory;
        }

        /// <summary>The path of <paramref name="name"/> in deps/, or null when deps/ has no such assembly.</summary>
        internal string PathOf(AssemblyName name)
        {
            if (string.IsNullOrEmpty(name.Name)) { return null; }
            string path = Path.Combine(_directory, name.Name + ".dll");
            return File.Exists(path) ? path : null;
        }

        protected override Assembly Load(AssemblyName assemblyName)
        {
            string path = PathOf(assemblyName);
            return path is null ? null : LoadFromAssemblyPath(path);
        }
    }
}
