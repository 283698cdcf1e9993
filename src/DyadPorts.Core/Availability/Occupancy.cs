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
        private EngineSnapshot _engine;
        private readonly StateDocument _state;
        private readonly HostPortProbe _host;
        private readonly Func<AllocationRecord, bool> _previewProcessAlive;

        /// <param name="engine">Null for the process engine: only host sockets and allocations count.</param>
        public Occupancy(EngineSnapshot engine, StateDocument state, HostPortProbe host, Func<AllocationRecord, bool> previewProcessAlive)
        {
            _engine = engine;
            _state = state;
            _host = host;
            _previewProcessAlive = previewProcessAlive;
        }

        public EngineSnapshot Engine => _engine;

        /// <summary>Leaves out a container removed after the snapshot was taken.</summary>
        public void Forget(string containerId)
        {
            if (_engine != null) _engine = new EngineSnapshot(_engine.Containers.Where(c => c.Id != containerId).ToList());
        }

        /// <summary>Who keeps <paramref name="port"/> from <paramref name="appId"/>; null when it is free for it. A null app asks for anyone.</summary>
        public PortHolder HolderOf(int port, string appId)
        {
            var containers = _engine?.OnHostPort(port) ?? Array.Empty<ContainerSummary>();
            var foreign = containers.Where(c => !IsOwn(c, appId)).OrderByDescending(c => c.IsRunning).FirstOrDefault();
            if (foreign != null) return PortHolder.ForContainer(foreign);

            var allocation = _state.Allocations.Values.FirstOrDefault(a => a.Port == port && !string.Equals(a.AppId, appId, StringComparison.Ordinal));
            if (allocation != null) return PortHolder.ForAllocation(allocation.AppId);

            // The app's own running container or preview process listens here itself.
            if (appId != null && (containers.Any(c => c.IsRunning) || OwnProcessListens(port, appId))) return null;

            return _host.IsFree(port) ? null : PortHolder.ForHost(() => _host.DescribeHolder(port));
        }

        /// <summary>A host port the app's own running container publishes, if any.</summary>
        public int? OwnContainerPort(string appId, Predicate<int> prefer = null)
        {
            var running = _engine?.ForApp(appId).Where(c => c.IsRunning).SelectMany(c => c.TcpHostPorts).ToList();
            if (running == null || running.Count == 0) return null;
            return prefer == null ? running[0] : running.Cast<int?>().FirstOrDefault(p => prefer(p.Value)) ?? running[0];
        }

        public bool OwnProcessListens(int port, string appId) =>
            _state.Allocations.TryGetValue(appId, out var record) && record.Port == port && record.ProcessId.HasValue && _previewProcessAlive(record);

        private static bool IsOwn(ContainerSummary container, string appId) =>
            appId != null && string.Equals(container.AppId, appId, StringComparison.Ordinal);
    }
}
