using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Threading;
using DyadPorts.Core.Session;
using DyadPorts.Infrastructure;

namespace DyadPorts.Completion
{
    /// <summary>Completes AppIds from the allocations and from dyad-app-* / labelled containers.</summary>
    public sealed class AppIdCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var prefix = (wordToComplete ?? string.Empty).Trim('\'', '"');
            return KnownAppIds(ModuleSession.Current)
                .Where(id => id.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                .OrderBy(id => id, StringComparer.OrdinalIgnoreCase)
                .Select(id => new CompletionResult(id, id, CompletionResultType.ParameterValue, $"app {id}"));
        }

        internal static IEnumerable<string> KnownAppIds(DyadSession session)
        {
            var ids = new HashSet<string>(StringComparer.Ordinal);
            foreach (var allocation in CompletionSources.Allocations(session)) ids.Add(allocation.AppId);
            foreach (var container in CompletionSources.Containers(session))
            {
                if (container.SuggestedAppId != null) ids.Add(container.SuggestedAppId);
            }
            return ids;
        }
    }

    /// <summary>Completes ports from the current allocations.</summary>
    public sealed class PortCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var prefix = wordToComplete ?? string.Empty;
            return CompletionSources.Allocations(ModuleSession.Current)
                .Select(a => (a.Port, a.AppId, Text: a.Port.ToString(CultureInfo.InvariantCulture)))
                .Where(a => a.Text.StartsWith(prefix, StringComparison.Ordinal))
                .OrderBy(a => a.Port)
                .Select(a => new CompletionResult(a.Text, a.Text, CompletionResultType.ParameterValue, $"port {a.Port} of app {a.AppId}"));
        }
    }

    /// <summary>What completers read. Completion must never fail or hang a prompt: every failure yields nothing.</summary>
    internal static class CompletionSources
    {
        private static readonly TimeSpan Budget = TimeSpan.FromSeconds(2);

        public static IEnumerable<Core.State.AllocationRecord> Allocations(DyadSession session)
        {
            return session.Peek()?.Allocations.Values.ToList() ?? Enumerable.Empty<Core.State.AllocationRecord>();
        }

        /// <summary>
        /// The containers of the engine Auto resolves to, within one 2 s budget for resolving and listing together.
        /// Resolving starts no process here: a podman machine whose socket only `podman machine inspect` could tell is skipped.
        /// </summary>
        public static IEnumerable<Core.Engines.ContainerSummary> Containers(DyadSession session)
        {
            try
            {
                using (var timeout = new CancellationTokenSource(Budget))
                {
                    var target = session.Resolve(EngineKind.Auto, null, Core.Engines.ResolutionMode.NoProcesses, timeout.Token);
                    if (!target.IsContainerEngine) return Enumerable.Empty<Core.Engines.ContainerSummary>();
                    // Through the session's view when the feed is on and it is live: no engine call.
                    var settings = session.Settings();
                    var client = session.Engine(target);
                    return session.Snapshots(settings, client, target.Kind).Take(Core.Diagnostics.NullOperationLog.Instance, timeout.Token).Containers;
                }
            }
            catch (Exception)
            {
                return Enumerable.Empty<Core.Engines.ContainerSummary>();
            }
        }
    }
}
