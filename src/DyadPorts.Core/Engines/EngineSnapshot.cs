using System;
using System.Collections.Generic;
using System.Linq;

namespace DyadPorts.Core.Engines
{
    /// <summary>
    /// All containers of one engine at one moment, indexed by host port and by the app they are labelled for, so that
    /// what one allocation asks (who publishes port P, which containers are app A's) costs the same whether the engine
    /// runs sixty containers or a thousand. The indexes are built once, when the snapshot is made (a list, or the engine
    /// view's publish after a change), never per question.
    /// </summary>
    public sealed class EngineSnapshot
    {
        /// <summary>No containers: what the process engine sees.</summary>
        public static readonly EngineSnapshot None = new EngineSnapshot(Array.Empty<ContainerSummary>());
        private readonly Dictionary<int, List<ContainerSummary>> _byHostPort = new Dictionary<int, List<ContainerSummary>>();
        private readonly Dictionary<string, List<ContainerSummary>> _byAppId = new Dictionary<string, List<ContainerSummary>>(StringComparer.Ordinal);

        public EngineSnapshot(IReadOnlyList<ContainerSummary> containers)
        {
            Containers = containers ?? throw new ArgumentNullException(nameof(containers));
            foreach (var container in containers)
            {
                foreach (var port in container.TcpHostPorts) Add(_byHostPort, port, container);
                // Ownership asks for the app's label first (ContainerSummary.AppId): no other container can be the app's.
                if (container.AppId is string appId) Add(_byAppId, appId, container);
            }
        }

        private static void Add<TKey>(Dictionary<TKey, List<ContainerSummary>> index, TKey key, ContainerSummary container)
        {
            if (!index.TryGetValue(key, out var list)) index[key] = list = new List<ContainerSummary>();
            list.Add(container);
        }

        public IReadOnlyList<ContainerSummary> Containers { get; }

        /// <summary>The same snapshot without the given containers, e.g. after they were removed.</summary>
        public EngineSnapshot Without(ICollection<string> containerIds) =>
            new EngineSnapshot(Containers.Where(c => !containerIds.Contains(c.Id)).ToList());

        public IReadOnlyList<ContainerSummary> OnHostPort(int port) =>
            _byHostPort.TryGetValue(port, out var list) ? list : (IReadOnlyList<ContainerSummary>)Array.Empty<ContainerSummary>();

        /// <summary>The containers labelled for <paramref name="appId"/> (any state, any claim), in the snapshot's order.</summary>
        private IReadOnlyList<ContainerSummary> LabelledFor(string appId) =>
            appId != null && _byAppId.TryGetValue(appId, out var list) ? list : (IReadOnlyList<ContainerSummary>)Array.Empty<ContainerSummary>();

        /// <summary>The app's own containers in <paramref name="state"/>, running ones first (see <see cref="Ownership"/>).</summary>
        public IEnumerable<ContainerSummary> ForApp(string appId, State.StateDocument state) =>
            RunningFirst(LabelledFor(appId).Where(c => Ownership.IsAppsOwn(c, appId, state)));

        /// <summary>The app's containers in <paramref name="state"/> of any claim: its own and its stale claimants, running ones first.</summary>
        public IEnumerable<ContainerSummary> ForAppAnyClaim(string appId, State.StateDocument state) =>
            RunningFirst(LabelledFor(appId).Where(c => Ownership.IsAppsOfAnyClaim(c, appId, state)));

        /// <summary>
        /// <paramref name="containers"/> with the running ones first, each group in its order (a stable sort on running, as
        /// OrderByDescending(c =&gt; c.IsRunning) was: LINQ keyed on a bool is framework code compiled at run time in a
        /// one-shot process, issue 18).
        /// </summary>
        public static List<ContainerSummary> RunningFirst(IEnumerable<ContainerSummary> containers)
        {
            ArgumentNullException.ThrowIfNull(containers);
            var running = new List<ContainerSummary>();
            List<ContainerSummary> rest = null;
            foreach (var c in containers)
            {
                if (c.IsRunning) running.Add(c);
                else (rest ??= new List<ContainerSummary>()).Add(c);
            }
            if (rest != null) running.AddRange(rest);
            return running;
        }
    }
}
