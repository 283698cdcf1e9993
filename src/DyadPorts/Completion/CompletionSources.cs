using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using DyadPorts.Core.Session;

namespace DyadPorts.Completion
{
    /// <summary>
    /// What completers read. Completion must never fail or hang a prompt: every failure yields nothing, and one Tab reads
    /// the state and the engine within one 2 s budget together (<see cref="StartBudget"/>).
    /// </summary>
    internal static class CompletionSources
    {
        private static readonly TimeSpan Budget = TimeSpan.FromSeconds(2);

        /// <summary>The clock of one completion's budget, started when the completer starts.</summary>
        public static Stopwatch StartBudget() => Stopwatch.StartNew();

        /// <summary>The stored allocations, within what is left of the budget; none when the state cannot be read for any reason.</summary>
        public static IEnumerable<Core.State.AllocationRecord> Allocations(DyadSession session, Stopwatch budget = null) =>
            Within(budget, _ => session.Peek()?.Allocations.Values.ToList() ?? Enumerable.Empty<Core.State.AllocationRecord>(), Enumerable.Empty<Core.State.AllocationRecord>());

        /// <summary>
        /// The containers of the engine Auto resolves to, within what is left of the completion's budget, for resolving and
        /// listing together. Resolving starts no process here: a podman machine whose socket only `podman machine inspect`
        /// could tell is skipped.
        /// </summary>
        public static IEnumerable<Core.Engines.ContainerSummary> Containers(DyadSession session, Stopwatch budget = null) =>
            Within(budget, token =>
            {
                var target = session.Resolve(EngineKind.Auto, null, Core.Engines.ResolutionMode.NoProcesses, token);
                if (!target.IsContainerEngine) return Enumerable.Empty<Core.Engines.ContainerSummary>();
                // Through the session's view when the feed is on and it is live: no engine call.
                var settings = session.Settings();
                var client = session.Engine(target);
                return session.Snapshots(settings, client, target.Kind).Take(Core.Diagnostics.NullOperationLog.Instance, token).Containers;
            }, Enumerable.Empty<Core.Engines.ContainerSummary>());

        /// <summary>
        /// <paramref name="read"/> on a pool thread, given what is left of the budget (all of it when <paramref name="budget"/>
        /// is null) and a token cancelled then; <paramref name="empty"/> when it fails, or has not answered by then. The prompt
        /// waits for the budget, not for the cancellation to reach a call blocked on a silent engine or cluster, which on a
        /// busy thread pool can take a second more; the read ends on its own after that.
        /// </summary>
        private static T Within<T>(Stopwatch budget, Func<CancellationToken, T> read, T empty)
        {
            var left = Budget - (budget?.Elapsed ?? TimeSpan.Zero);
            if (left <= TimeSpan.Zero) return empty;
            var timeout = new CancellationTokenSource(left);
            var work = Task.Run(() => read(timeout.Token), timeout.Token);
            work.ContinueWith(_ => timeout.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            try
            {
                return work.Wait(left) ? work.Result : empty;
            }
            catch (AggregateException)
            {
                return empty; // whatever the state's or the engine's client library threw: never at the prompt
            }
        }
    }
}
