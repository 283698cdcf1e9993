using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using DyadPorts.Core.Availability;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Allocation
{
    /// <summary>
    /// Allocations validated against the real system. Every operation takes one engine snapshot
    /// (one list call, whatever the range size), then reads and writes the state under the
    /// cross-process lock. The port itself is chosen by <see cref="PortChooser"/>.
    /// </summary>
    public sealed class PortAllocator
    {
        private readonly StateStore _store;
        private readonly ContainerEngine _engine;
        private readonly HostPortProbe _host;

        /// <param name="engine">Null for the process engine: only host sockets and allocations are checked.</param>
        public PortAllocator(StateStore store, ContainerEngine engine, EngineKind kind, HostPortProbe host = null)
        {
            _store = store;
            _engine = engine;
            Kind = kind;
            _host = host ?? HostPortProbe.Instance;
        }

        public EngineKind Kind { get; }
        public string Endpoint => _engine?.Endpoint;
        public StateStore Store => _store;
        public ContainerEngine Engine => _engine;

        /// <summary>The seed's allocatePort(appId, forceNew), validated against the engine, the host and the state.</summary>
        public PortAllocation Request(string appId, PortRange range, bool force, IOperationLog log, CancellationToken cancellationToken)
        {
            var snapshot = TakeSnapshot(log, cancellationToken);
            return _store.Update(state =>
            {
                var occupancy = Occupy(snapshot, state);
                var record = Reserve(appId, new PortRequest { Range = range, Force = force }, occupancy, state, p => occupancy.HolderOf(p, appId), log);
                return Reconcile(record, occupancy);
            }, () => Rebuild(snapshot), log, cancellationToken);
        }

        /// <summary>
        /// Chooses and records a port for the app inside an open state update. <paramref name="holderOf"/>
        /// lets the preview launcher reclaim stale DyadPorts containers (AUTO_KILL_PORT) while scanning.
        /// </summary>
        internal AllocationRecord Reserve(string appId, PortRequest request, Occupancy occupancy, StateDocument state, Func<int, PortHolder> holderOf, IOperationLog log)
        {
            state.Allocations.TryGetValue(appId, out var existing);
            request.AppId = appId;
            request.CurrentPort = existing?.Port;
            request.OwnLivePort = occupancy.OwnContainerPort(appId, p => p == existing?.Port);
            var choice = PortChooser.Choose(request, holderOf, log.VerboseEnabled ? log.Verbose : (Action<string>)null);
            if (choice.Dropped != null)
            {
                log.Warning($"App {appId}: {choice.Dropped}; it now has port {choice.Port}.");
            }
            var record = existing != null && existing.Port == choice.Port
                ? existing
                : new AllocationRecord { AppId = appId, Port = choice.Port, AllocatedAt = DateTimeOffset.UtcNow };
            record.Engine = Kind;
            record.EngineEndpoint = Endpoint;
            state.Allocations[appId] = record;
            return record;
        }

        /// <summary>Whether each port is free for a new app, and who holds it if not.</summary>
        public IReadOnlyList<PortStatus> Test(IReadOnlyList<int> ports, IOperationLog log, CancellationToken cancellationToken)
        {
            foreach (var port in ports) PortRange.EnsurePort(port, port);
            var snapshot = TakeSnapshot(log, cancellationToken);
            var state = _store.Read(() => Rebuild(snapshot), log, cancellationToken);
            var occupancy = Occupy(snapshot, state);
            return ports.Select(port =>
            {
                var holder = occupancy.HolderOf(port, null);
                log.Verbose(holder == null ? $"Port {port}: free." : $"Port {port}: held by {holder.Description}.");
                return new PortStatus { Port = port, Available = holder == null, HeldBy = holder?.Description, Source = holder?.Source };
            }).ToList();
        }

        /// <summary>Allocations whose AppId matches, each reconciled with what runs now.</summary>
        public IReadOnlyList<PortAllocation> Get(Func<string, bool> appIdMatches, IOperationLog log, CancellationToken cancellationToken)
        {
            var snapshot = TakeSnapshot(log, cancellationToken);
            var state = _store.Read(() => Rebuild(snapshot), log, cancellationToken);
            var occupancy = Occupy(snapshot, state);
            return state.Allocations.Values.Where(r => appIdMatches(r.AppId)).Select(r => Reconcile(r, occupancy)).ToList();
        }

        /// <summary>Removes the app's allocation; null when it had none. Needs no engine.</summary>
        public PortAllocation Release(string appId, IOperationLog log, CancellationToken cancellationToken)
        {
            var removed = _store.Update(state =>
            {
                if (!state.Allocations.TryGetValue(appId, out var record)) return null;
                state.Allocations.Remove(appId);
                return record;
            }, () => Rebuild(TakeSnapshot(log, cancellationToken)), log, cancellationToken);
            if (removed == null) return null;
            log.Verbose($"App {appId}: released port {removed.Port}.");
            var allocation = ToAllocation(removed);
            allocation.Status = AllocationStatus.Released;
            return allocation;
        }

        internal EngineSnapshot TakeSnapshot(IOperationLog log, CancellationToken cancellationToken)
        {
            if (_engine == null) return null;
            var snapshot = _engine.Snapshot(cancellationToken);
            log.Verbose($"Engine {Kind} at {_engine.Endpoint}: {snapshot.Containers.Count} container(s) listed.");
            return snapshot;
        }

        internal Occupancy Occupy(EngineSnapshot snapshot, StateDocument state) =>
            new Occupancy(snapshot, state, _host, PreviewProcesses.IsAlive);

        /// <summary>A state rebuilt from DyadPorts-labelled containers, for when the file is unreadable.</summary>
        internal StateDocument Rebuild(EngineSnapshot snapshot)
        {
            var document = new StateDocument();
            if (snapshot == null) return document;
            foreach (var container in snapshot.Containers.Where(c => c.IsManaged && c.AppId != null).OrderByDescending(c => c.IsRunning))
            {
                var port = container.TcpHostPorts.Cast<int?>().FirstOrDefault();
                if (port == null || document.Allocations.ContainsKey(container.AppId) || AppIds.Problem(container.AppId) != null) continue;
                if (document.Allocations.Values.Any(r => r.Port == port)) continue;
                document.Allocations[container.AppId] = new AllocationRecord
                {
                    AppId = container.AppId,
                    Port = port.Value,
                    Engine = Kind,
                    EngineEndpoint = Endpoint,
                    AllocatedAt = container.Created ?? DateTimeOffset.UtcNow,
                    ContainerId = container.Id,
                    Image = container.Image,
                };
            }
            return document;
        }

        /// <summary>Active, Reserved, Stale or Conflict: the allocation compared with what runs now.</summary>
        internal static PortAllocation Reconcile(AllocationRecord record, Occupancy occupancy)
        {
            var allocation = ToAllocation(record);
            var own = occupancy.Engine?.ForApp(record.AppId).ToList() ?? new List<ContainerSummary>();
            var live = own.FirstOrDefault(c => c.IsRunning && c.TcpHostPorts.Contains(record.Port));
            if (live != null || occupancy.OwnProcessListens(record.Port, record.AppId))
            {
                allocation.Status = AllocationStatus.Active;
                allocation.ContainerId = live?.Id ?? record.ContainerId;
                return allocation;
            }
            var holder = occupancy.HolderOf(record.Port, record.AppId);
            if (holder != null)
            {
                allocation.Status = AllocationStatus.Conflict;
                allocation.HeldBy = holder.Description;
                return allocation;
            }
            allocation.Status = own.Count > 0 || record.HasPreview ? AllocationStatus.Stale : AllocationStatus.Reserved;
            return allocation;
        }

        private static PortAllocation ToAllocation(AllocationRecord record) => new PortAllocation
        {
            AppId = record.AppId,
            Port = record.Port,
            ContainerName = record.Engine == EngineKind.Process ? null : AppIds.ContainerName(record.AppId),
            Engine = record.Engine,
            EngineEndpoint = record.EngineEndpoint,
            AllocatedAt = record.AllocatedAt,
            ContainerId = record.ContainerId,
            ProcessId = record.ProcessId,
        };
    }
}
