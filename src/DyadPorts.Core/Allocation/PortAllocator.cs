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
    /// cross-process lock. The port itself is chosen by <see cref="PortChooser"/>. Callers never edit
    /// records: they ask for operations, and each one checks that what it changes is still theirs.
    /// </summary>
    public sealed class PortAllocator
    {
        private readonly StateStore _store;
        private readonly ContainerEngine _engine;
        private readonly Func<IHostPortProbe> _hostProbe;
        private readonly Func<CancellationToken, PortAllocator> _recoveryEngine;

        /// <param name="engine">Null for the process engine: only host sockets and allocations are checked.</param>
        /// <param name="host">
        /// The host probe to use for every operation; null chooses one per operation (per allocation) by OS and
        /// DYAD_PORTS_HOST_PROBE, or the none probe when the engine is on another host (see <see cref="HostProbes"/>).
        /// </param>
        /// <param name="recoveryEngine">
        /// For an allocator without an engine (Remove-DyadPortAllocation): the engine to rebuild a corrupt or
        /// missing state from, resolved only when that is needed.
        /// </param>
        public PortAllocator(StateStore store, ContainerEngine engine, EngineKind kind, IHostPortProbe host = null, Func<CancellationToken, PortAllocator> recoveryEngine = null)
        {
            _store = store;
            _engine = engine;
            Kind = kind;
            _hostProbe = host != null
                ? () => host
                : HostProbes.Factory(EngineHost.IsLocal(engine?.Endpoint), System.Environment.GetEnvironmentVariable, HostProbes.CurrentOs);
            _recoveryEngine = recoveryEngine;
        }

        public EngineKind Kind { get; }
        public string Endpoint => _engine?.Endpoint;
        public StateStore Store => _store;
        internal ContainerEngine Engine => _engine;

        /// <summary>The seed's allocatePort(appId, forceNew), validated against the engine, the host and the state.</summary>
        public PortAllocation Request(string appId, PortRange range, bool force, IOperationLog log, CancellationToken cancellationToken)
        {
            var snapshot = TakeSnapshot(log, cancellationToken);
            return _store.Update(state =>
            {
                var occupancy = Occupy(snapshot, state);
                var record = Reserve(appId, new PortRequest { Range = range, Force = force }, occupancy, state, log);
                return Reconcile(record, occupancy);
            }, id => Recover(snapshot, id, log, cancellationToken), log, cancellationToken);
        }

        /// <summary>Chooses and records a port for the app inside an open state update.</summary>
        private AllocationRecord Reserve(string appId, PortRequest request, Occupancy occupancy, StateDocument state, IOperationLog log)
        {
            state.Allocations.TryGetValue(appId, out var existing);
            if (existing != null && !OnThisHost(existing))
            {
                log.Verbose($"App {appId}: its allocation (port {existing.Port}) is on host {EngineHost.Of(existing.EngineEndpoint)}; it moves to host {HostIdentity}.");
                existing = null;
            }
            request.AppId = appId;
            request.CurrentPort = existing?.Port;
            request.OwnLivePort = occupancy.OwnContainerPort(appId, p => p == existing?.Port);
            var choice = PortChooser.Choose(request, p => occupancy.HolderOf(p, appId), log.VerboseEnabled ? log.Verbose : (Action<string>)null);
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
            state.Record(existing == null
                ? Event(PortEventKind.Allocated, appId, choice.Port)
                : existing.Port == choice.Port
                    ? Event(PortEventKind.Reused, appId, choice.Port, reason: choice.Reason == ChoiceReason.OwnContainer ? "its own running container publishes it" : null)
                    : Event(PortEventKind.Moved, appId, choice.Port, previousPort: existing.Port, heldBy: choice.Dropped,
                        reason: choice.Dropped == null ? (choice.Reason == ChoiceReason.OwnContainer ? "its own running container publishes this port" : "-Force") : null));
            return record;
        }

        private PortEvent Event(PortEventKind kind, string appId, int? port, int? previousPort = null, string heldBy = null, string reason = null, string containerId = null, int? processId = null) =>
            new PortEvent { Kind = kind, AppId = appId, Port = port, Endpoint = Endpoint, PreviousPort = previousPort, HeldBy = heldBy, Reason = reason, ContainerId = containerId, ProcessId = processId };

        /// <summary>Journals decisions that change no allocation (a race lost, an orphan removed, a preview stopped or failed).</summary>
        internal void Journal(IOperationLog log, params PortEvent[] events)
        {
            foreach (var e in events) e.Endpoint = e.Endpoint ?? Endpoint;
            _store.Update(state => { foreach (var e in events) state.Record(e); return 0; }, id => Recover(null, id, log, CancellationToken.None), log, CancellationToken.None);
        }

        /// <summary>
        /// Reserves a port for a preview start (-Force semantics, ports in <paramref name="lost"/> excluded) and
        /// forgets the app's previous preview, whose containers the launcher has removed. Returns the port.
        /// </summary>
        /// <param name="previous">The app's allocation before this reservation (null when it had none), for a failed start to give back.</param>
        internal int ReserveForStart(string appId, PortRange range, ISet<int> lost, EngineSnapshot snapshot, out AllocationRecord previous, IOperationLog log, CancellationToken cancellationToken)
        {
            snapshot = snapshot ?? TakeSnapshot(log, cancellationToken);
            AllocationRecord before = null;
            var port = _store.Update(state =>
            {
                before = state.Allocations.TryGetValue(appId, out var had) ? Copy(had) : null;
                var record = Reserve(appId, new PortRequest { Range = range, Force = true, Excluded = lost }, Occupy(snapshot, state), state, log);
                record.ContainerId = null;
                record.ProcessId = null;
                record.ProcessStartedAt = null;
                record.ProcessStartTicks = null;
                return record.Port;
            }, id => Recover(snapshot, id, log, cancellationToken), log, cancellationToken);
            previous = before;
            return port;
        }

        private static AllocationRecord Copy(AllocationRecord r) => new AllocationRecord
        {
            AppId = r.AppId, Port = r.Port, Engine = r.Engine, EngineEndpoint = r.EngineEndpoint, AllocatedAt = r.AllocatedAt,
            ContainerId = r.ContainerId, ProcessId = r.ProcessId, ProcessStartedAt = r.ProcessStartedAt, ProcessStartTicks = r.ProcessStartTicks, Image = r.Image,
        };

        /// <summary>
        /// AUTO_KILL_PORT's candidates, chosen under the lock from one snapshot: the orphans (see
        /// <see cref="AutoKillPolicy"/>) a scan for <paramref name="appId"/> meets before the first free port.
        /// The caller removes them without the lock; the next reservation re-checks everything.
        /// </summary>
        internal IReadOnlyList<(int Port, ContainerSummary Container)> Orphans(string appId, PortRange range, ISet<int> lost, EngineSnapshot snapshot, IOperationLog log, CancellationToken cancellationToken)
        {
            var state = _store.Read(id => Recover(snapshot, id, log, cancellationToken), log, cancellationToken);
            var ports = Enumerable.Range(range.First, range.Count).Where(p => !lost.Contains(p));
            return Occupy(snapshot, state).OrphansBeforeFirstFree(appId, ports, log.VerboseEnabled ? log.Verbose : (Action<string>)null);
        }

        /// <summary>
        /// Records the container that now runs the app's preview on <paramref name="port"/>. When the allocation
        /// vanished meanwhile (Remove-DyadPortAllocation during the start), it is recorded again, unless another
        /// app took the port: then false, and the launcher treats the port as lost.
        /// </summary>
        internal bool RecordPreview(string appId, int port, string containerId, string image, int? processId, DateTimeOffset? processStartedAt, IOperationLog log, CancellationToken cancellationToken, long? processStartTicks = null)
        {
            return _store.Update(state =>
            {
                if (!state.Allocations.TryGetValue(appId, out var record) || record.Port != port)
                {
                    var other = state.Allocations.Values.FirstOrDefault(r => r.Port == port && r.AppId != appId && OnThisHost(r));
                    if (other != null)
                    {
                        log.Verbose($"App {appId}: while its preview started on port {port}, its allocation was removed and app {other.AppId} took the port.");
                        return false;
                    }
                    log.Verbose($"App {appId}: its allocation changed while its preview started; recording port {port} again, where the preview runs.");
                    record = new AllocationRecord { AppId = appId, Port = port, AllocatedAt = DateTimeOffset.UtcNow };
                    state.Allocations[appId] = record;
                }
                record.Engine = Kind;
                record.EngineEndpoint = Endpoint;
                record.ContainerId = containerId;
                record.Image = image;
                record.ProcessId = processId;
                record.ProcessStartedAt = processStartedAt;
                record.ProcessStartTicks = processStartTicks;
                state.Record(Event(PortEventKind.PreviewStarted, appId, port, containerId: containerId, processId: processId));
                return true;
            }, id => Recover(null, id, log, cancellationToken), log, cancellationToken);
        }

        /// <summary>The app's allocation, as the idempotent start path found it running (container id and port from the engine).</summary>
        internal int RecordRunning(string appId, ContainerSummary running, IOperationLog log, CancellationToken cancellationToken)
        {
            return _store.Update(state =>
            {
                state.Allocations.TryGetValue(appId, out var record);
                var port = running.TcpHostPorts.Contains(record?.Port ?? 0) ? record.Port : running.TcpHostPorts.First();
                if (record == null || record.Port != port)
                {
                    record = new AllocationRecord { AppId = appId, Port = port, AllocatedAt = DateTimeOffset.UtcNow };
                    state.Allocations[appId] = record;
                }
                record.Engine = Kind;
                record.EngineEndpoint = Endpoint;
                record.ContainerId = running.Id;
                record.Image = running.Image;
                state.Record(Event(PortEventKind.Reused, appId, port, containerId: running.Id, reason: "its preview already runs"));
                return port;
            }, id => Recover(null, id, log, cancellationToken), log, cancellationToken);
        }

        /// <summary>
        /// Releases the app's allocation only if it is still the one this start made: same port, and no preview
        /// recorded but <paramref name="containerId"/> / <paramref name="processId"/>. Another start's allocation is never touched.
        /// </summary>
        /// <param name="previous">
        /// The app's allocation before the start (<see cref="ReserveForStart"/>): it is given back, without the preview
        /// the start replaced, unless another app has taken its port meanwhile. Null: the app had none, and none is left.
        /// </param>
        internal bool ReleaseIfOwned(string appId, int port, string containerId, int? processId, IOperationLog log, AllocationRecord previous = null)
        {
            var released = _store.Update(state =>
            {
                if (!state.Allocations.TryGetValue(appId, out var record) || record.Port != port) return false;
                if (record.ContainerId != null && !string.Equals(record.ContainerId, containerId, StringComparison.Ordinal)) return false;
                if (record.ProcessId.HasValue && record.ProcessId != processId) return false;
                state.Allocations.Remove(appId);
                if (previous != null && !state.Allocations.Values.Any(r => r.Port == previous.Port && OnThisHost(r)))
                {
                    var restored = Copy(previous);
                    restored.ContainerId = null; // the start removed the app's containers before it reserved
                    state.Allocations[appId] = restored;
                    if (restored.Port != port) state.Record(Event(PortEventKind.Moved, appId, restored.Port, previousPort: port, reason: "its preview start failed; its earlier allocation was given back"));
                    return true;
                }
                state.Record(Event(PortEventKind.Released, appId, port, containerId: containerId, processId: processId, reason: "its preview start failed"));
                return true;
            }, id => Recover(null, id, log, CancellationToken.None), log, CancellationToken.None);
            log.Verbose(released
                ? previous != null ? $"App {appId}: its preview did not start; its earlier allocation stays." : $"App {appId}: released port {port}."
                : $"App {appId}: its allocation is no longer the one this start made; it was left alone.");
            return released;
        }

        /// <summary>Whether each port is free for a new app, and who holds it if not.</summary>
        public IReadOnlyList<PortStatus> Test(IReadOnlyList<int> ports, IOperationLog log, CancellationToken cancellationToken)
        {
            foreach (var port in ports) PortRange.EnsurePort(port, port);
            var snapshot = TakeSnapshot(log, cancellationToken);
            var state = _store.Read(id => Recover(snapshot, id, log, cancellationToken), log, cancellationToken);
            var occupancy = Occupy(snapshot, state);
            return ports.Select(port =>
            {
                var holder = occupancy.HolderOf(port, null);
                log.Verbose(holder == null ? $"Port {port}: free." : $"Port {port}: held by {holder.Description}.");
                return new PortStatus { Port = port, Available = holder == null, HeldBy = holder?.Description, Source = holder?.Source };
            }).ToList();
        }

        /// <summary>Allocations whose AppId matches, each reconciled with what runs now on its own host.</summary>
        public IReadOnlyList<PortAllocation> Get(Func<string, bool> appIdMatches, IOperationLog log, CancellationToken cancellationToken) =>
            Get(appIdMatches, log, null, cancellationToken);

        /// <summary>
        /// As <see cref="Get(Func{string,bool},IOperationLog,CancellationToken)"/>, across hosts: records on this allocator's host
        /// are reconciled with its engine; each other host's records with that host's engine (<see cref="EngineFor"/>).
        /// When another host cannot be reached, its records come back <see cref="AllocationStatus.Unknown"/> and
        /// <paramref name="hostUnreachable"/> gets one EngineUnreachable for that host; this allocator's own engine stays terminating.
        /// </summary>
        public IReadOnlyList<PortAllocation> Get(Func<string, bool> appIdMatches, IOperationLog log, Action<DyadPortsException> hostUnreachable, CancellationToken cancellationToken)
        {
            var snapshot = TakeSnapshot(log, cancellationToken);
            var state = _store.Read(id => Recover(snapshot, id, log, cancellationToken), log, cancellationToken);
            var occupancy = Occupy(snapshot, state);
            var result = new List<PortAllocation>();
            foreach (var group in state.Allocations.Values.Where(r => appIdMatches(r.AppId)).GroupBy(r => EngineHost.Of(r.EngineEndpoint)))
            {
                if (group.Key == HostIdentity)
                {
                    result.AddRange(group.Select(r => Reconcile(r, occupancy)));
                    continue;
                }
                result.AddRange(OtherHost(group.Key, group.ToList(), state, log, hostUnreachable, cancellationToken));
            }
            return result;
        }

        /// <summary>The engine client for an endpoint that records name (another host's); set by the session, which knows the TLS files.</summary>
        public Func<string, ContainerEngine> EngineFor { get; set; }

        private IEnumerable<PortAllocation> OtherHost(string host, IReadOnlyList<AllocationRecord> records, StateDocument state, IOperationLog log, Action<DyadPortsException> hostUnreachable, CancellationToken cancellationToken)
        {
            var reported = false;
            foreach (var byEndpoint in records.GroupBy(r => r.EngineEndpoint))
            {
                var endpoint = byEndpoint.Key;
                var engine = EngineFor?.Invoke(endpoint) ?? new ContainerEngine(endpoint, EngineKind.Auto, EngineResolver.TlsFor(endpoint, System.Environment.GetEnvironmentVariable));
                List<PortAllocation> reconciled;
                try
                {
                    var snapshot = engine.Snapshot(cancellationToken);
                    log.Verbose($"Host {host}: engine at {endpoint}: {snapshot.Containers.Count} container(s) listed.");
                    var occupancy = new Occupancy(snapshot, state, RemoteHostPortProbe.Instance, PreviewProcesses.IsAlive, host);
                    reconciled = byEndpoint.Select(r => Reconcile(r, occupancy)).ToList();
                }
                catch (DyadPortsException e) when (e.ErrorId == ErrorIds.EngineUnreachable)
                {
                    log.Verbose($"Host {host}: its engine at {endpoint} cannot be reached; its {byEndpoint.Count()} allocation(s) are Unknown.");
                    if (!reported) hostUnreachable?.Invoke(e); // one error per host
                    reported = true;
                    reconciled = byEndpoint.Select(r => { var a = ToAllocation(r); a.Status = AllocationStatus.Unknown; return a; }).ToList();
                }
                finally
                {
                    if (EngineFor == null) engine.Dispose();
                }
                foreach (var allocation in reconciled) yield return allocation;
            }
        }

        /// <summary>
        /// The range at a glance, from one snapshot: each port's holder as <see cref="Test"/> sees it, allocation
        /// counts by status as <see cref="Get"/> reconciles them, and the last 24 hours of the journal.
        /// </summary>
        public PortUsage Usage(PortRange range, IOperationLog log, CancellationToken cancellationToken)
        {
            var snapshot = TakeSnapshot(log, cancellationToken);
            var state = _store.Read(id => Recover(snapshot, id, log, cancellationToken), log, cancellationToken);
            var occupancy = Occupy(snapshot, state);
            var usage = new PortUsage { At = DateTimeOffset.UtcNow, Range = range.ToString(), First = range.First, Last = range.Last, Total = range.Count };
            var map = new char[range.Count];
            for (var port = range.First; port <= range.Last; port++)
            {
                var holder = occupancy.HolderOf(port, null);
                map[port - range.First] = holder == null ? PortUsage.FreeCell
                    : holder.Source == PortHolderSource.Allocation ? PortUsage.AllocationCell
                    : holder.Source == PortHolderSource.Container ? PortUsage.ContainerCell : PortUsage.HostCell;
            }
            usage.Map = new string(map);
            usage.Free = map.Count(c => c == PortUsage.FreeCell);
            usage.HeldByAllocation = map.Count(c => c == PortUsage.AllocationCell);
            usage.HeldByContainer = map.Count(c => c == PortUsage.ContainerCell);
            usage.HeldByHost = map.Count(c => c == PortUsage.HostCell);
            foreach (var status in state.Allocations.Values.Select(r => Reconcile(r, occupancy).Status.ToString()))
            {
                usage.AllocationsByStatus[status] = (usage.AllocationsByStatus.TryGetValue(status, out var n) ? n : 0) + 1;
            }
            var since = usage.At.AddHours(-24);
            var recent = _store.ReadHistory(log.Warning, cancellationToken).Where(e => e.Time >= since).ToList();
            usage.MovesLast24Hours = recent.Count(e => e.Kind == PortEventKind.Moved);
            usage.RacesLostLast24Hours = recent.Count(e => e.Kind == PortEventKind.RaceLost);
            usage.TopMovers = recent.Where(e => e.Kind == PortEventKind.Moved && e.AppId != null).GroupBy(e => e.AppId)
                .Select(g => new AppMoves { AppId = g.Key, Moves = g.Count() }).OrderByDescending(m => m.Moves).ThenBy(m => m.AppId, StringComparer.Ordinal).Take(5).ToArray();
            usage.EventCounts = new SortedDictionary<string, long>(state.Counters, StringComparer.Ordinal);
            return usage;
        }

        /// <summary>The state as it is now (read under the lock), with its containers' snapshot.</summary>
        internal StateDocument ReadState(EngineSnapshot snapshot, IOperationLog log, CancellationToken cancellationToken) =>
            _store.Read(id => Recover(snapshot, id, log, cancellationToken), log, cancellationToken);

        /// <summary>Removes the app's allocation; null when it had none. Needs no engine unless the state must be rebuilt.</summary>
        public PortAllocation Release(string appId, IOperationLog log, CancellationToken cancellationToken, string reason = null)
        {
            var removed = _store.Update(state =>
            {
                if (!state.Allocations.TryGetValue(appId, out var record)) return null;
                state.Allocations.Remove(appId);
                state.Activity.Remove(appId);
                state.Record(Event(PortEventKind.Released, appId, record.Port, containerId: record.ContainerId, processId: record.ProcessId, reason: reason));
                return record;
            }, id => Recover(null, id, log, cancellationToken), log, cancellationToken);
            if (removed == null) return null;
            log.Verbose($"App {appId}: released port {removed.Port}.");
            var allocation = ToAllocation(removed);
            allocation.Status = AllocationStatus.Released;
            return allocation;
        }

        internal EngineSnapshot TakeSnapshot(IOperationLog log, CancellationToken cancellationToken)
        {
            if (_engine == null) return EngineSnapshot.None;
            var snapshot = _engine.Snapshot(cancellationToken);
            log.Verbose($"Engine {Kind} at {_engine.Endpoint}: {snapshot.Containers.Count} container(s) listed.");
            return snapshot;
        }

        internal Occupancy Occupy(EngineSnapshot snapshot, StateDocument state) =>
            new Occupancy(snapshot, state, _hostProbe(), PreviewProcesses.IsAlive, HostIdentity);

        /// <summary>The host whose port space this allocator's engine publishes into (<see cref="EngineHost"/>).</summary>
        public string HostIdentity => EngineHost.Of(Endpoint);

        private bool OnThisHost(AllocationRecord record) => EngineHost.Of(record.EngineEndpoint) == HostIdentity;

        /// <summary>
        /// The one way a missing or unreadable state is rebuilt: from this state's labelled containers, on this
        /// allocator's engine (the snapshot at hand, or a fresh one), else on the engine the session can still find
        /// (an allocator of the process engine, Remove-DyadPortAllocation). Never from nothing: when no engine answers
        /// it fails with StateFileCorrupt, and the store leaves the file as it is (a missing file then starts empty).
        /// </summary>
        internal StateDocument Recover(EngineSnapshot snapshot, string stateId, IOperationLog log, CancellationToken cancellationToken)
        {
            if (_engine != null) return Rebuild(snapshot != null && snapshot != EngineSnapshot.None ? snapshot : TakeSnapshot(log, cancellationToken), stateId);
            PortAllocator recovery = null;
            try
            {
                recovery = _recoveryEngine?.Invoke(cancellationToken);
            }
            catch (DyadPortsException e) when (e.ErrorId == ErrorIds.EngineUnreachable)
            {
                log.Verbose($"No engine to rebuild the state from: {e.Message}");
            }
            if (recovery?._engine != null) return recovery.Rebuild(recovery.TakeSnapshot(log, cancellationToken), stateId);
            throw new DyadPortsException(ErrorIds.StateFileCorrupt, FailureCategory.ResourceUnavailable, _store.Path,
                $"The DyadPorts state file '{_store.Path}' must be rebuilt from the engine's DyadPorts-labelled containers, but no container engine answers. " +
                "It was left exactly as it is. Start the engine (or point DOCKER_HOST / -EngineEndpoint at it) and run the command again, or move the file aside to start from an empty state.");
        }

        /// <summary>
        /// A state rebuilt from this state's DyadPorts-labelled containers (label dyadports.state=<paramref name="stateId"/>),
        /// for a missing or unreadable file. A null snapshot means "take one now". Other states' containers are never taken.
        /// </summary>
        internal StateDocument Rebuild(EngineSnapshot snapshot, string stateId)
        {
            var document = new StateDocument { StateId = stateId };
            foreach (var container in snapshot.Containers.Where(c => c.AppId != null && c.StateId == stateId).OrderByDescending(c => c.IsRunning))
            {
                var port = container.TcpHostPorts.Cast<int?>().FirstOrDefault();
                if (port == null || document.Allocations.ContainsKey(container.AppId) || AppIds.Problem(container.AppId) != null) continue;
                if (document.Allocations.Values.Any(r => r.Port == port)) continue; // every record here is on this engine's host
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
            var own = occupancy.Engine.ForApp(record.AppId, occupancy.State).ToList();
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
            Host = EngineHost.Of(record.EngineEndpoint),
            AllocatedAt = record.AllocatedAt,
            ContainerId = record.ContainerId,
            ProcessId = record.ProcessId,
        };
    }
}
