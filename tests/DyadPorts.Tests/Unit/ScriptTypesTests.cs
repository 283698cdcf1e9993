using System.Linq;
using DyadPorts.Core;
using DyadPorts.Core.Diagnostics;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary>The types the loader names for scripts: every type the cmdlets emit and take, and the module's exceptions.</summary>
    public sealed class ScriptTypesTests
    {
        [Fact]
        public void ListsEveryPublicTypeOfTheDyadPortsNamespaceAndEveryModuleException()
        {
            var exported = typeof(PortAllocation).Assembly.GetExportedTypes();
            var wanted = exported
                .Where(t => t.Namespace == "DyadPorts" || typeof(DyadPortsException).IsAssignableFrom(t))
                .Select(t => t.FullName).OrderBy(n => n, System.StringComparer.Ordinal).ToArray();
            var listed = ScriptTypes.All.Select(t => t.FullName).OrderBy(n => n, System.StringComparer.Ordinal).ToArray();
            Assert.Equal(wanted, listed);
            Assert.Contains("DyadPorts.PortAllocation", listed);
            Assert.Contains("DyadPorts.Core.Diagnostics.DyadPortsException", listed);
        }
    }
}
