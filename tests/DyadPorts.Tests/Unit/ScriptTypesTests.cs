using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Reflection;
using DyadPorts.Commands;
using DyadPorts.Core;
using DyadPorts.Core.Diagnostics;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary>The types the loader names for scripts (<see cref="ScriptTypes"/>): none a script meets is left out.</summary>
    public sealed class ScriptTypesTests
    {
        private static readonly Assembly Core = typeof(PortAllocation).Assembly;

        [Fact]
        public void Lists_every_public_type_of_the_DyadPorts_namespace_and_every_module_exception()
        {
            var wanted = Core.GetExportedTypes().Where(t => t.Namespace == "DyadPorts" || typeof(DyadPortsException).IsAssignableFrom(t)).Select(t => t.FullName);
            var listed = ScriptTypes.All.Select(t => t.FullName).ToHashSet(StringComparer.Ordinal);
            Assert.Equal(Array.Empty<string>(), wanted.Where(n => !listed.Contains(n)).ToArray()); // the missing ones, named
            Assert.Contains("DyadPorts.PortAllocation", listed);
        }

        /// <summary>
        /// Every type of DyadPorts.Core that a cmdlet emits ([OutputType]) or takes (a [Parameter] property), that the
        /// exceptions inside their errors are, and that a public property of any of those holds (through arrays, lists
        /// and dictionaries), is listed: a script can name each one it meets.
        /// </summary>
        [Fact]
        public void Lists_every_core_type_a_cmdlet_emits_or_takes_and_every_core_type_their_properties_hold()
        {
            var cmdlets = typeof(RequestDyadPortCommand).Assembly.GetExportedTypes().Where(t => typeof(Cmdlet).IsAssignableFrom(t) && !t.IsAbstract).ToList();
            Assert.True(cmdlets.Count >= 10, $"only {cmdlets.Count} cmdlets found");
            var start = new List<Type> { typeof(DyadPortsException), typeof(EngineRefusedException) };
            foreach (var cmdlet in cmdlets)
            {
                start.AddRange(cmdlet.GetCustomAttributes<OutputTypeAttribute>().SelectMany(a => a.Type).Select(n => n.Type).Where(t => t != null));
                start.AddRange(cmdlet.GetProperties().Where(p => p.GetCustomAttributes<ParameterAttribute>().Any()).Select(p => p.PropertyType));
            }
            var met = new HashSet<Type>();
            var queue = new Queue<Type>(start);
            while (queue.Count > 0)
            {
                foreach (var type in Unwrapped(queue.Dequeue()).Where(t => t.Assembly == Core && met.Add(t)))
                {
                    foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance)) queue.Enqueue(property.PropertyType);
                }
            }
            Assert.Contains(typeof(PortAllocation), met);
            Assert.Contains(typeof(FailureCategory), met);
            var listed = ScriptTypes.All.ToHashSet();
            Assert.Equal(Array.Empty<string>(), met.Where(t => !listed.Contains(t)).Select(t => t.FullName).ToArray());
        }

        private static IEnumerable<Type> Unwrapped(Type type)
        {
            if (type.IsArray) return Unwrapped(type.GetElementType());
            if (type.IsGenericType) return type.GetGenericArguments().SelectMany(Unwrapped);
            return new[] { type };
        }
    }
}
