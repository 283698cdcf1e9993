using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace DyadPorts.Loader
{
    /// <summary>
    /// Routes the module's own assemblies (DyadPorts.Core, later DyadPorts.Fleet) into the one
    /// <see cref="DyadPortsLoadContext"/>. When the cmdlets (DyadPorts.dll, default context) reference one, the default
    /// context cannot find it (it lives in deps/, not beside DyadPorts.dll) and raises Resolving: only then this hook
    /// answers. Their own dependencies then bind inside that context. Third-party names are never answered here: they
    /// must bind from inside the context, never through the default one, which may already hold another version.
    /// </summary>
    internal static class ModuleDependencies
    {
        /// <summary>The folder beside the module's assemblies that holds its dependencies.</summary>
        internal const string Folder = "deps";

        /// <summary>The module's assembly whose public types (the objects the cmdlets return) scripts name.</summary>
        internal static readonly AssemblyName Core = new AssemblyName("DyadPorts.Core");

        private static readonly DyadPortsLoadContext Context = new DyadPortsLoadContext(
            Folders(Path.Combine(Path.GetDirectoryName(typeof(ModuleDependencies).Assembly.Location) ?? string.Empty, Folder),
                RuntimeInformation.RuntimeIdentifier));

        /// <summary>
        /// Where the dependencies are looked up: deps/&lt;RID&gt;/ first when the module ships ReadyToRun copies for the
        /// runtime's own identifier (build.ps1 compiles them for linux-x64), then deps/, whose IL-only copies run on every
        /// platform. A ReadyToRun image of another platform would not load at all (BadImageFormatException), so the RID must
        /// match exactly: linux-musl-x64 or a distribution's own RID takes the IL, as does every other platform.
        /// </summary>
        internal static IReadOnlyList<string> Folders(string deps, string runtimeIdentifier)
        {
            string native = string.IsNullOrEmpty(runtimeIdentifier) ? null : Path.Combine(deps, runtimeIdentifier);
            return native is not null && Directory.Exists(native) ? new[] { native, deps } : new[] { deps };
        }

        private static readonly object Gate = new object();
        private static int _imports;

        /// <summary>Hooks the default context, once however many runspaces import the module.</summary>
        internal static void Attach()
        {
            lock (Gate)
            {
                if (_imports++ == 0) { AssemblyLoadContext.Default.Resolving += Resolve; }
            }
        }

        /// <summary>Unhooks when the last import is removed. What was bound stays bound: nothing unloads.</summary>
        internal static void Detach()
        {
            lock (Gate)
            {
                if (_imports > 0 && --_imports == 0) { AssemblyLoadContext.Default.Resolving -= Resolve; }
            }
        }

        /// <summary>One of the module's own assemblies, loaded in the module's context.</summary>
        internal static Assembly Load(AssemblyName name) => Context.LoadFromAssemblyName(name);

        private static bool IsModuleAssembly(AssemblyName name) =>
            name.Name is not null
            && name.Name.StartsWith("DyadPorts.", StringComparison.Ordinal)
            && Context.PathOf(name) is not null;

        private static Assembly Resolve(AssemblyLoadContext context, AssemblyName name) =>
            IsModuleAssembly(name) ? Context.LoadFromAssemblyName(name) : null;
    }
}
