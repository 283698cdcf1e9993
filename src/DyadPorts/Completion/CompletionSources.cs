using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using DyadPorts.Core.Session;

namespace DyadPorts.Completion
{
    /// <summary>
    /// What completers read. Completion must never fail or hang a prompt: every failure yields nothing, and one Tab reads
    /// the state and the engine within one 2 s budget together (an etcd state's peek has its own bound, and takes from it).
    /// </summary>
    internal static class CompletionSources
    {
        private static readonly TimeSpan Budget = TimeSpan.FromSeconds(2);

        /// <summary>The clock of one completion's budget, started when the completer starts.</summary>
        public static Stopwatch StartBudget() => Stopwatch.StartNew();

        /// <summary>The stored allocations; none when the state cannot be read for any reason (a bad DYAD_PORTS_STATE included).</summary>
        public static IEnumerable<Core.State.AllocationRecord> Allocations(DyadSession session)
        {
            try
            {
                return session.Peek()?.Allocations.Values.ToList() ?? Enumerable.Empty<Core.State.AllocationRecord>();
            }
            catch (Exception)
            {
                return Enumerable.Empty<Core.State.AllocationRecord>(); // whatever a state's client library throws: never at the prompt
            }
        }

        /// <summary>
        /// The containers of the engine Auto resolves to, within what is left of the completion's budget (all of it when
        /// <paramref name="budget"/> is null) for resolving and listing together. Resolving starts no process here: a podman
        /// machine whose socket only `podman machine inspect` could tell is skipped.
        /// </summary>
        public static IEnumerable<Core.Engines.ContainerSummary> Containers(DyadSession session, Stopwatch budget = null)
        {
            var left = Budget - (budget?.Elapsed ?? TimeSpan.Zero);
            if (left <= TimeSpan.Zero) return Enumerable.Empty<Core.Engines.ContainerSummary>();
            try
            {
                using (var timeout = new CancellationTokenSource(left))
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
