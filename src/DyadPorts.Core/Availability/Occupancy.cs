using System;
using System.Collections.Generic;
using System.Linq;
using DyadPorts.Core.Engines;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Availability
{
    /// <summary>
    /// The system's state at one moment: one engine snapshot, the allocation state, and host sockets
    /// probed on demand. Answers "who keeps this port from this app?".
    /// </summary>
    public sealed class Occupancy
    {
        private readonly StateDocument _state;
        private readonly IHostPortProbe _host;
        private readonly Func<AllocationRecord, bool> _previewProcessAlive;

        /// <param name="engine">The engine's containers; <see cref="EngineSnapshot.None"/> for the process engine.</param>
        /// <param name="hostIdentity">
        /// The port space these ports live in (<see cref="EngineHost"/>): only allocations on the same host compete.
        /// Null means this host.
        /// </param>
        public Occupancy(EngineSnapshot engine, StateDocument state, IHostPortProbe host, Func<AllocationRecord, bool> previewProcessAlive, string hostIdentity = null)
        {
            Engine = engine ?? EngineSnapshot.None;
            _state = state;
            _host = host;
            _previewProcessAlive = previewProcessAlive;
            HostIdentity = hostIdentity ?? EngineHost.Local;
        }

        /// <summary>The host whose port space this is: "localhost" or a remote engine's host name.</summary>
        public string HostIdentity { get; }

        public EngineSnapshot Engine { get; }
        public StateDocument State => _state;

        /// <summary>Who keeps <paramref name="port"/> from <paramref name="appId"/>; null when it is free for it. A null app asks for anyone.</summary>
        public PortHolder HolderOf(int port, string appId) => HolderOf(port, appId, null);

        /// <summary>As <see cref="HolderOf(int,string)"/>, as if the containers <paramref name="ignore"/> selects were gone.</summary>
        public PortHolder HolderOf(int port, string appId, Func<ContainerSummary, bool> ignore)
        {
            var containers = Engine.OnHostPort(port).Where(c => ignore == null || !ignore(c)).ToList();
            var foreign = EngineSnapshot.RunningFirst(containers.Where(c => !Ownership.IsAppsOwn(c, appId, _state))).FirstOrDefault();
            if (foreign != null) return PortHolder.ForContainer(foreign);

            // The same port may belong to another app on another host, never on this one.
            var allocation = _state.Allocations.Values.FirstOrDefault(a => a.Port == port && !string.Equals(a.AppId, appId, StringComparison.Ordinal) &&
                                                                           EngineHost.Of(a.EngineEndpoint) == HostIdentity);
            if (allocation != null) return PortHolder.ForAllocation(allocation.AppId);

            // The app's own running container or preview process listens here itself.
            if (appId != null && (containers.Any(c => c.IsRunning) || OwnProcessListens(port, appId))) return null;

            return _host.IsFree(port) ? null : PortHolder.ForHost(() => _host.DescribeHolder(port));
        }

        /// <summary>A host port the app's own running container publishes, if any.</summary>
        public int? OwnContainerPort(string appId, Predicate<int> prefer = null)
        {
            var running = new List<int>();
            foreach (var c in Engine.ForApp(appId, _state))
            {
                if (c.IsRunning) running.AddRange(c.TcpHostPorts);
            }
            if (running.Count == 0) return null;
            return prefer == null ? running[0] : running.Cast<int?>().FirstOrDefault(p => prefer(p.Value)) ?? running[0];
        }

        public bool OwnProcessListens(int port, string appId) =>
            _state.Allocations.TryGetValue(appId, out var record) && record.Port == port && record.ProcessId.HasValue && _previewProcessAlive(record);

        /// <summary>
        /// AUTO_KILL_PORT's candidates for <paramref name="appId"/>: the orphans on the ports of <paramref name="ports"/>
        /// that the scan meets before the first free port, where removing them would free the port.
        /// </summary>
        /// <param name="trace">Told, when given, why each held port's holder stays.</param>
        public IReadOnlyList<(int Port, ContainerSummary Container)> OrphansBeforeFirstFree(string appId, IEnumerable<int> ports, Action<string> trace = null)
        {
            var found = new List<(int, ContainerSummary)>();
            foreach (var port in ports)
            {
                var holder = HolderOf(port, appId);
                if (holder == null) break;
                if (holder.Source != PortHolderSource.Container)
                {
                    trace?.Invoke($"AUTO_KILL_PORT: port {port} is held by {holder.Description}; {(holder.Source == PortHolderSource.Host ? "DyadPorts never kills host processes" : "another app has it reserved")}. Trying the next port.");
                    continue;
                }
                var orphans = Engine.OnHostPort(port).Where(c => Allocation.AutoKillPolicy.IsOrphan(c, port, _state)).ToList();
                if (orphans.Count == 0)
                {
                    trace?.Invoke($"AUTO_KILL_PORT: port {port} is held by {holder.Description}; {Allocation.AutoKillPolicy.WhyKept(holder.Container, port, _state)}. Trying the next port.");
                    continue;
                }
                var gone = new HashSet<string>(orphans.Select(c => c.Id), StringComparer.Ordinal);
                if (HolderOf(port, appId, c => gone.Contains(c.Id)) != null) continue;
                found.AddRange(orphans.Select(c => (port, c)));
            }
            return found;
        }
    }
}
