using System;
using System.Management.Automation;
using System.Reflection;

namespace DyadPorts.Loader
{
    /// <summary>
    /// Makes the types a script names nameable again ([DyadPorts.PortAllocation], -is, casts, catch): those
    /// DyadPorts.Core lists in DyadPorts.Core.ScriptTypes. PowerShell resolves a type name only in assemblies of the
    /// default load context, so a type that lives in the module's context is found through a type accelerator under its
    /// full name, the way about_Classes exports a module's types. The accelerator names the very type the cmdlets return:
    /// one type, not a copy. The other public types of DyadPorts.Core are not published: loading them all cost every
    /// import 3.7-7.1 ms (docs/BENCHMARKS.md, 0.6.3); a script that must reach one takes it from the assembly
    /// ([DyadPorts.PortAllocation].Assembly.GetType(name)).
    /// </summary>
    internal static class TypeNames
    {
        private static readonly MethodInfo Add =
            typeof(PSObject).Assembly.GetType("System.Management.Automation.TypeAccelerators")
                ?.GetMethod("Add", BindingFlags.Public | BindingFlags.Static, new[] { typeof(string), typeof(Type) });

        private static readonly object Gate = new object();
        private static bool _published;

        /// <summary>
        /// Adds one accelerator per script type, once per process: the accelerator table is process-wide and not safe
        /// for concurrent writers (runspaces may import the module at the same time). They stay after Remove-Module:
        /// the types stay loaded, other runspaces may still use them, and a new import would add the same ones.
        /// </summary>
        internal static void Publish(Assembly assembly)
        {
            if (Add is null)
            {
                throw new InvalidOperationException("This PowerShell has no TypeAccelerators.Add(string, Type): DyadPorts cannot name its types.");
            }
            lock (Gate)
            {
                if (_published) { return; }
                var list = assembly.GetType("DyadPorts.Core.ScriptTypes", throwOnError: true).GetProperty("All", BindingFlags.Public | BindingFlags.Static);
                foreach (Type type in (Type[])list.GetValue(null))
                {
                    Add.Invoke(null, new object[] { type.FullName, type });
                }
                _published = true;
            }
        }
    }
}
