using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using DyadPorts.Core.Availability;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Insights;
using DyadPorts.Core.Ledger;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Allocation
{
    /// <summary>
    /// Allocations validated against the real system, put together from its parts: one engine snapshot per
    /// operation (<see cref="EngineSnapshots"/>, one list call), the host probe, the pure <see cref="PortChooser"/>,
    /// and the <see cref="IAllocationLedger"/>, where every change is one transaction that is pure on the document.
    /// The engine is always read first and the ledger committed after: no engine call happens inside a transaction.
    /// Statuses come from the <see cref="Reconciler"/>, the usage map from <see cref="UsageReport"/>.
    /// </summary>
    public sealed class PortAllocator
    {
        private readonly IAllocationLedger _ledger;
        private readonly EngineSnapshots _engine;
        private readonly Func<IHostPortProbe> _hostProbe;

        /// <param name="hostProbe">The host probe for each operation; null chooses one by OS and DYAD_PORTS_HOST_PROBE (<see cref="HostProbes"/>).</param>
        public PortAllocator(IAllocationLedger ledger, EngineSnapshots engine, Func<IHostPortProbe> hostProbe = null)
        {
            _ledger = ledger ?? throw new ArgumentNullException(nameof(ledger));
            _engine = engine ?? new EngineSnapshots(null, EngineKind.Process);
            _hostProbe = hostProbe ?? HostProbes.Factory(EngineHost.IsLocal(_engine.Endpoint), System.Environment.GetEnvironmentVariable, HostProbes.CurrentOs);
        }

        /// <summary>
        /// The file ledger at <paramref name="store"/> over <paramref name="engine"/> (null: the process engine), rebuilt when
        /// needed from <paramref name="recovery"/>, else from the engine's own labelled containers.
        /// </summary>
        public PortAllocator(StateStore store, ContainerEngine engine, EngineKind kind, IHostPortProbe host = null, IStateRecovery recovery = null)
            : this(store, new EngineSnapshots(engine, engine == null ? EngineKind.Process : kind), host, recovery)
        {
        }

        private PortAllocator(StateStore store, EngineSnapshots engine, IHostPortProbe host, IStateRecovery recovery)
            : this(new FileLedger(store, recovery ?? new LabelledContainerRecovery(engine, null, store.Path)), engine, host == null ? null : () => host)
        {
        }

        public IAllocationLedger Ledger => _ledger;
        public EngineSnapshots Engine => _engine;
        public EngineKind Kind => _engine.Kind;
        public string Endpoint => _engine.Endpoint;

        /// <summary>The host whose port space this allocator's engine publishes into (<see cref="EngineHost"/>).</summary>
        public string HostIdentity => EngineHost.Of(Endpoint);

        /// <summary>The engine client for an endpoint that records name (another host's); set by the session, which knows the TLS files.</summary>
        public Func<string, ContainerEngine> EngineFor { get; set; }

        /// <summary>The session's engine views when the feed is on (other hosts' records are judged from them once live); null for none.</summary>
        public EngineViews Views { get; set; }

        /// <summary>Where process previews keep their logs; set by the session (this machine's folder, whatever the ledger). Null: beside a file ledger's state.</summary>
        public string ProcessLogFolder { get; set; }

        /// <summary>This machine in a fleet: stamped on every record made here, and tells another machine's local records (read-only here).</summary>
        public MachineIdentity Machine { get; set; } = MachineIdentity.Current;

        // ---- reads ------------------------------------------------------------------------------------

        /// <summary>One engine snapshot (one list call; none for the process engine).</summary>
        public EngineSnapshot TakeSnapshot(IOperationLog log, CancellationToken cancellationToken) => _engine.Take(log, cancellationToken);

        /// <summary>A consistent copy of the state (no lock while the stored state is sound).</summary>
        public StateDocument ReadState(IOperationLog log, CancellationToken cancellationToken) => _ledger.Read(log, cancellationToken);

        internal Occupancy Occupy(EngineSnapshot snapshot, StateDocument state) =>
            new Occupancy(snapshot, state, _hostProbe(), PreviewProcesses.IsAlive, HostIdentity);

        /// <summary>Whether each port is free for a new app, and who holds it if not.</summary>
        public IReadOnlyList<PortStatus> Test(IReadOnlyList<int> ports, IOperationLog log, CancellationToken cancellationToken)
        {
            foreach (var port in ports) PortRange.EnsurePort(port, port);
            var snapshot = TakeSnapshot(log, cancellationToken);
            var occupancy = Occupy(snapshot, ReadState(log, cancellationToken));
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

        /// <summary>As <see cref="Get(Func{string,bool},IOperationLog,CancellationToken)"/>; an unreachable other host gives Unknown records and one error to <paramref name="hostUnreachable"/>.</summary>
        public IReadOnlyList<PortAllocation> Get(Func<string, bool> appIdMatches, IOperationLog log, Action<DyadPortsException> hostUnreachable, CancellationToken cancellationToken)
        {
            var snapshot = TakeSnapshot(log, cancellationToken);
            var state = ReadState(log, cancellationToken);
            return new Reconciler(EngineFor, Machine, Views).Reconcile(state, Occupy(snapshot, state), appIdMatches, log, hostUnreachable, cancellationToken);
        }

        /// <summary>The range at a glance (<see cref="UsageReport"/>).</summary>
        public PortUsage Usage(PortRange range, IOperationLog log, CancellationToken cancellationToken)
        {
            var snapshot = TakeSnapshot(log, cancellationToken);
            var state = ReadState(log, cancellationToken);
            return UsageReport.Build(range, Occupy(snapshot, state), _ledger.History(log, cancellationToken), DateTimeOffset.UtcNow);
        }

        // ---- transactions -----------------------------------------------------------------------------

        /// <summary>The seed's allocatePort(appId, forceNew), validated against the engine, the host and the state.</summary>
        public PortAllocation Request(string appId, PortRange range, bool force, IOperationLog log, CancellationToken cancellationToken)
        {
            var snapshot = TakeSnapshot(log, cancellationToken);
            return _ledger.Transact((state, said) =>
            {
                var occupancy = Occupy(snapshot, state);
                var record = Reserve(appId, new PortRequest { Range = range, Force = force }, occupancy, state, said);
                return Reconciler.Reconcile(record, occupancy);
            }, log, cancellationToken);
        }

        /// <summary>Chooses and records a port for the app inside a transaction.</summary>
        private AllocationRecord Reserve(string appId, PortRequest request, Occupancy occupancy, StateDocument state, IOperationLog log)
        {
            state.Allocations.TryGetValue(appId, out var existing);
            if (existing != null && OnOtherMachine(existing, "reserved or moved", "move it here with Request-DyadPort -Force (that machine's preview is then left untracked)") is DyadPortsException elsewhere)
            {
                // Another machine's local engine or processes run it: moving it here would leave that preview untracked.
                if (!request.Force) throw elsewhere;
                log.Warning($"App {appId}: -Force moves its allocation (port {existing.Port}) from machine {Machine.OtherMachine(existing)}'s local {(existing.Engine == EngineKind.Process ? "processes" : "engine")} to host {HostIdentity}. " +
                            "Whatever runs it there is left alone, and no longer tracked: stop it on that machine.");
            }
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
            record.Host = Machine.HostOf(Endpoint);
            state.Allocations[appId] = record;
            state.Record(existing == null
                ? Event(PortEventKind.Allocated, appId, choice.Port)
                : existing.Port == choice.Port
                    ? Event(PortEventKind.Reused, appId, choice.Port, reason: choice.Reason == ChoiceReason.OwnContainer ? "its own running container publishes it" : null)
                    : Event(PortEventKind.Moved, appId, choice.Port, previousPort: existing.Port, heldBy: choice.Dropped,
                        reason: choice.Reason == ChoiceReason.OwnContainer ? "its own running container publishes this port" : request.Force && choice.Dropped == null ? "-Force" : null));
            return record;
        }

        private PortEvent Event(PortEventKind kind, string appId, int? port, int? previousPort = null, string heldBy = null, string reason = null, string containerId = null, int? processId = null) =>
            new PortEvent { Kind = kind, AppId = appId, Port = port, Endpoint = Endpoint, PreviousPort = previousPort, HeldBy = heldBy, Reason = reason, ContainerId = containerId, ProcessId = processId };

        /// <summary>Journals decisions that change no allocation (a race lost, an orphan removed, a preview stopped or failed).</summary>
        internal void Journal(IOperationLog log, CancellationToken cancellationToken, params PortEvent[] events)
        {
            if (events.Length == 0) return;
            _ledger.Transact((state, _) => { RecordAll(state, events); return 0; }, log, cancellationToken);
        }

        private void RecordAll(StateDocument state, IEnumerable<PortEvent> events)
        {
            foreach (var e in events ?? Enumerable.Empty<PortEvent>())
            {
                e.Endpoint = e.Endpoint ?? Endpoint;
                state.Record(e);
            }
        }

        /// <summary>
        /// Reserves a port for a preview start and forgets the app's previous preview, whose containers the launcher
        /// has removed. Like Request-DyadPort without -Force: the app keeps the port it holds while that port is free,
        /// and moves only when it is taken (or lost in <paramref name="lost"/>). <paramref name="alsoRecord"/> are
        /// decisions of this start so far (previews replaced, races lost, orphans removed), journaled in the same
        /// transaction. Returns the port.
        /// </summary>
        /// <param name="previous">The app's allocation before this reservation (null when it had none), for a failed start to give back.</param>
        internal int ReserveForStart(string appId, PortRange range, ISet<int> lost, EngineSnapshot snapshot, IReadOnlyCollection<PortEvent> alsoRecord,
            out AllocationRecord previous, out long? claim, IOperationLog log, CancellationToken cancellationToken)
        {
            AllocationRecord before = null;
            AllocationRecord reserved = null;
            var port = _ledger.Transact((state, said) =>
            {
                before = state.Allocations.TryGetValue(appId, out var had) ? Copy(had) : null;
                RecordAll(state, alsoRecord);
                var record = Reserve(appId, new PortRequest { Range = range, Force = false, Excluded = lost }, Occupy(snapshot, state), state, said);
                record.ContainerId = null;
                record.ProcessId = null;
                record.ProcessStartedAt = null;
                record.ProcessStartTicks = null;
                record.Provisional = true; // until the preview runs: on etcd, under this operator's lease
                reserved = record;
                return record.Port;
            }, log, cancellationToken);
            previous = before;
            // The ledger stamps the claim on the record it committed; a commit whose answer was lost (and that landed) is read back.
            claim = reserved?.ClaimRevision;
            if (claim == null && ReadState(log, cancellationToken).Allocations.TryGetValue(appId, out var stored) && stored.Port == port) claim = stored.ClaimRevision;
            return port;
        }

        private static AllocationRecord Copy(AllocationRecord r) => new AllocationRecord
        {
            AppId = r.AppId, Port = r.Port, Engine = r.Engine, EngineEndpoint = r.EngineEndpoint, AllocatedAt = r.AllocatedAt,
            ContainerId = r.ContainerId, ProcessId = r.ProcessId, ProcessStartedAt = r.ProcessStartedAt, ProcessStartTicks = r.ProcessStartTicks, Image = r.Image, Host = r.Host,
            Provisional = r.Provisional, ClaimRevision = r.ClaimRevision,
        };

        /// <summary>
        /// AUTO_KILL_PORT's candidates, from one snapshot and one read: the orphans (see <see cref="AutoKillPolicy"/>) a
        /// scan for <paramref name="appId"/> meets before the first free port. The caller removes them; the next
        /// reservation re-checks everything.
        /// </summary>
        internal IReadOnlyList<(int Port, ContainerSummary Container)> Orphans(string appId, PortRange range, ISet<int> lost, EngineSnapshot snapshot, StateDocument state, IOperationLog log)
        {
            var ports = Enumerable.Range(range.First, range.Count).Where(p => !lost.Contains(p));
            return Occupy(snapshot, state).OrphansBeforeFirstFree(appId, ports, log.VerboseEnabled ? log.Verbose : (Action<string>)null);
        }

        /// <summary>
        /// Records the container that now runs the app's preview on <paramref name="port"/>. When the allocation
        /// vanished meanwhile (Remove-DyadPortAllocation during the start), it is recorded again, unless another
        /// app took the port: then false, and the launcher treats the port as lost.
        /// </summary>
        internal bool RecordPreview(string appId, int port, Previews.LaunchedPreview launched, string image, IOperationLog log, CancellationToken cancellationToken)
        {
            return _ledger.Transact((state, said) =>
            {
                if (!state.Allocations.TryGetValue(appId, out var record) || record.Port != port)
                {
                    var other = state.Allocations.Values.FirstOrDefault(r => r.Port == port && r.AppId != appId && OnThisHost(r));
                    if (other != null)
                    {
                        said.Verbose($"App {appId}: while its preview started on port {port}, its allocation was removed and app {other.AppId} took the port.");
                        return false;
                    }
                    said.Verbose($"App {appId}: its allocation changed while its preview started; recording port {port} again, where the preview runs.");
                    record = new AllocationRecord { AppId = appId, Port = port, AllocatedAt = DateTimeOffset.UtcNow };
                    state.Allocations[appId] = record;
                }
                record.Engine = Kind;
                record.EngineEndpoint = Endpoint;
                record.Host = Machine.HostOf(Endpoint);
                record.ContainerId = launched.ContainerId;
                record.Image = image;
                record.ProcessId = launched.ProcessId;
                record.ProcessStartedAt = launched.ProcessStartedAt;
                record.ProcessStartTicks = launched.ProcessStartTicks;
                record.Provisional = false; // the start succeeded: a plain record
                state.Record(Event(PortEventKind.PreviewStarted, appId, port, containerId: launched.ContainerId, processId: launched.ProcessId));
                return true;
            }, log, cancellationToken);
        }

        /// <summary>The app's allocation, as the idempotent start path found it running (container id and port from the engine).</summary>
        internal int RecordRunning(string appId, ContainerSummary running, IReadOnlyCollection<PortEvent> alsoRecord, IOperationLog log, CancellationToken cancellationToken)
        {
            return _ledger.Transact((state, _) =>
            {
                RecordAll(state, alsoRecord);
                state.Allocations.TryGetValue(appId, out var record);
                var port = running.TcpHostPorts.Contains(record?.Port ?? 0) ? record.Port : running.TcpHostPorts[0];
                if (record == null || record.Port != port)
                {
                    record = new AllocationRecord { AppId = appId, Port = port, AllocatedAt = DateTimeOffset.UtcNow };
                    state.Allocations[appId] = record;
                }
                record.Engine = Kind;
                record.EngineEndpoint = Endpoint;
                record.Host = Machine.HostOf(Endpoint);
                record.ContainerId = running.Id;
                record.Image = running.Image;
                record.Provisional = false;
                state.Record(Event(PortEventKind.Reused, appId, port, containerId: running.Id, reason: "its preview already runs"));
                return port;
            }, log, cancellationToken);
        }

        /// <summary>
        /// Releases the app's allocation only if it is still the one this start made: same port, and no preview
        /// recorded but <paramref name="containerId"/> / <paramref name="processId"/>. Another start's allocation is never
        /// touched. Bounded (the lock's own timeout) rather than cancellable: a start that was cancelled still cleans up.
        /// </summary>
        /// <param name="previous">
        /// The app's allocation before the start (<see cref="ReserveForStart"/>): it is given back, without the preview
        /// the start replaced, unless another app has taken its port meanwhile. Null: the app had none, and none is left.
        /// </param>
        internal bool ReleaseIfOwned(string appId, int port, string containerId, int? processId, IOperationLog log, AllocationRecord previous = null, IReadOnlyCollection<PortEvent> alsoRecord = null)
        {
            var released = _ledger.Transact((state, _) =>
            {
                RecordAll(state, alsoRecord);
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
            }, log, CancellationToken.None);
            log.Verbose(released
                ? previous != null ? $"App {appId}: its preview did not start; its earlier allocation stays." : $"App {appId}: released port {port}."
                : $"App {appId}: its allocation is no longer the one this start made; it was left alone.");
            return released;
        }

        /// <summary>Removes the app's allocation; null when it had none. Needs no engine unless the state must be rebuilt.</summary>
        public PortAllocation Release(string appId, IOperationLog log, CancellationToken cancellationToken, string reason = null, IReadOnlyCollection<PortEvent> alsoRecord = null) =>
            Release(appId, force: true, log, cancellationToken, reason, alsoRecord);

        /// <summary>
        /// Remove-DyadPortAllocation: removes the app's allocation; null when it had none. An allocation of another machine's
        /// local engine or processes is refused (RecordOnOtherMachine, nothing written) unless <paramref name="force"/>.
        /// </summary>
        public PortAllocation Release(string appId, bool force, IOperationLog log, CancellationToken cancellationToken, string reason = null, IReadOnlyCollection<PortEvent> alsoRecord = null)
        {
            var removed = _ledger.Transact((state, said) =>
            {
                RecordAll(state, alsoRecord);
                if (!state.Allocations.TryGetValue(appId, out var record)) return null;
                if (OnOtherMachine(record, "released", "release it from here with Remove-DyadPortAllocation -Force (that machine's preview is then left untracked)") is DyadPortsException elsewhere)
                {
                    if (!force) throw elsewhere;
                    said.Warning($"App {appId}: -Force releases its allocation (port {record.Port}) of machine {Machine.OtherMachine(record)}'s local {(record.Engine == EngineKind.Process ? "processes" : "engine")}. " +
                                 "Whatever runs it there is left alone, and no longer tracked: stop it on that machine.");
                }
                state.Allocations.Remove(appId);
                state.Activity.Remove(appId);
                state.Record(Event(PortEventKind.Released, appId, record.Port, containerId: record.ContainerId, processId: record.ProcessId, reason: reason));
                return record;
            }, log, cancellationToken);
            if (removed == null) return null;
            log.Verbose($"App {appId}: released port {removed.Port}.");
            var allocation = Reconciler.ToAllocation(removed);
            allocation.Status = AllocationStatus.Released;
            return allocation;
        }

        private bool OnThisHost(AllocationRecord record) => EngineHost.Of(record.EngineEndpoint) == HostIdentity && Machine.OtherMachine(record) == null;

        /// <summary>The refusal for an app whose record names another machine's local engine or process: nothing here can see or stop it.</summary>
        /// <param name="orElse">What else the user may do, after "Run the command on machine M" (for example the -Force that overrides).</param>
        internal DyadPortsException OnOtherMachine(AllocationRecord record, string action, string orElse = null)
        {
            var machine = Machine.OtherMachine(record);
            return machine == null ? null : new DyadPortsException(ErrorIds.RecordOnOtherMachine, FailureCategory.InvalidOperation, record.AppId,
                $"App {record.AppId}'s preview (port {record.Port}) runs on machine {machine}'s local {(record.Engine == EngineKind.Process ? "processes" : "engine")}, not on this machine ({Machine.MachineId}). " +
                $"Nothing was {action}. Run the command on machine {machine}{(orElse == null ? "." : ", or " + orElse + ".")}");
        }
    }
}
