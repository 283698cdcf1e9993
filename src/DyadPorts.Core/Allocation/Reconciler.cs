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
    /// Allocations compared with what runs now: Active, Reserved, Stale or Conflict on a host whose engine answered,
    /// Unknown on one that did not. Records of the command's own host are judged against its snapshot; each other
    /// host's against one list call of that host's engine. It reads; it never changes the ledger.
    /// </summary>
    public sealed class Reconciler
    {
        private readonly Func<string, ContainerEngine> _engineFor;
        private readonly MachineIdentity _machine;

        /// <param name="engineFor">
        /// The client for an endpoint a record names (another host's), owned by the caller (the session keeps them); it may
        /// throw EngineUnreachable (TLS files gone). Null: a client of its own per call, with the TLS files the
        /// environment names, disposed after the call.
        /// </param>
        public Reconciler(Func<string, ContainerEngine> engineFor) : this(engineFor, MachineIdentity.Current)
        {
        }

        /// <param name="machine">This machine: records of another machine's local engine or processes come back Unknown, never reconciled here.</param>
        public Reconciler(Func<string, ContainerEngine> engineFor, MachineIdentity machine) : this(engineFor, machine, null)
        {
        }

        /// <param name="views">The session's engine views: another host's live view answers instead of a list call; null for none.</param>
        public Reconciler(Func<string, ContainerEngine> engineFor, MachineIdentity machine, EngineViews views)
        {
            _engineFor = engineFor;
            _machine = machine ?? MachineIdentity.Current;
            _views = views;
        }

        private readonly EngineViews _views;

        /// <summary>
        /// Every record of <paramref name="state"/> that <paramref name="appIdMatches"/>, reconciled. A host that cannot be
        /// reached (or whose client cannot even be made) gives its records Unknown and one error to <paramref name="hostUnreachable"/>.
        /// </summary>
        public IReadOnlyList<PortAllocation> Reconcile(StateDocument state, Occupancy local, Func<string, bool> appIdMatches, IOperationLog log,
            Action<DyadPortsException> hostUnreachable, CancellationToken cancellationToken)
        {
            var result = new List<PortAllocation>();
            var matching = state.Allocations.Values.Where(r => appIdMatches(r.AppId)).ToList();
            foreach (var elsewhere in matching.Where(r => _machine.OtherMachine(r) != null).GroupBy(r => _machine.OtherMachine(r)))
            {
                // Another machine's local engine or processes: nothing here can see them. Unknown, named, and left alone.
                log.Verbose($"{elsewhere.Count()} allocation(s) are on machine {elsewhere.Key}'s local engine or processes: Unknown and read-only here (this is machine {_machine.MachineId}).");
                result.AddRange(elsewhere.Select(r => OnOtherMachine(r, elsewhere.Key)));
            }
            foreach (var group in matching.Where(r => _machine.OtherMachine(r) == null).GroupBy(r => EngineHost.Of(r.EngineEndpoint)))
            {
                if (group.Key == local.HostIdentity) result.AddRange(group.Select(r => Reconcile(r, local)));
                else result.AddRange(OtherHost(group.Key, group.ToList(), state, log, hostUnreachable, cancellationToken));
            }
            return result;
        }

        private List<PortAllocation> OtherHost(string host, IReadOnlyList<AllocationRecord> records, StateDocument state, IOperationLog log, Action<DyadPortsException> hostUnreachable, CancellationToken cancellationToken)
        {
            var result = new List<PortAllocation>();
            var reported = false;
            foreach (var byEndpoint in records.GroupBy(r => r.EngineEndpoint))
            {
                var endpoint = byEndpoint.Key;
                ContainerEngine own = null;
                try
                {
                    // Made inside the try: TLS files that vanished cost this host's records, not the whole listing.
                    var engine = _engineFor != null
                        ? _engineFor(endpoint)
                        : own = new ContainerEngine(endpoint, EngineKind.Auto, EngineResolver.TlsFor(endpoint, System.Environment.GetEnvironmentVariable));
                    var snapshot = (own == null ? _views?.Read(engine, EngineKind.Auto, cancellationToken) : null) ?? engine.Snapshot(cancellationToken);
                    log.Verbose($"Host {host}: engine at {endpoint}: {snapshot.Containers.Count} container(s).");
                    var occupancy = new Occupancy(snapshot, state, RemoteHostPortProbe.Instance, PreviewProcesses.IsAlive, host);
                    result.AddRange(byEndpoint.Select(r => Reconcile(r, occupancy)));
                }
                catch (DyadPortsException e) when (CostsOnlyThisHost(e))
                {
                    log.Verbose($"Host {host}: its engine at {endpoint} did not answer ({e.ErrorId}); its {byEndpoint.Count()} allocation(s) are Unknown.");
                    if (!reported) hostUnreachable?.Invoke(e); // one error per host
                    reported = true;
                    result.AddRange(byEndpoint.Select(r => { var a = ToAllocation(r); a.Status = AllocationStatus.Unknown; return a; }));
                }
                finally
                {
                    own?.Dispose();
                }
            }
            return result;
        }

        /// <summary>
        /// Another host's engine that cannot be reached, refuses to list (a socket proxy's 403), fails a request or cannot
        /// even be configured (its TLS files gone): its records are Unknown and the listing of every other host goes on.
        /// </summary>
        private static bool CostsOnlyThisHost(DyadPortsException e) =>
            e.ErrorId is ErrorIds.EngineUnreachable or ErrorIds.EngineListRefused or ErrorIds.EngineVersionRefused or ErrorIds.EngineRequestFailed
                or ErrorIds.InvalidEngineEndpoint or ErrorIds.EngineSshUnsupported;

        /// <summary>Active, Reserved, Stale or Conflict: the allocation compared with what runs now.</summary>
        public static PortAllocation Reconcile(AllocationRecord record, Occupancy occupancy)
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
                allocation.HeldBy = holder.Container != null && Ownership.IsStaleClaimant(holder.Container, record)
                    ? $"{holder.Description}, a stale claimant: an earlier start's under claim {holder.Container.ClaimRevision}, which was lost (the allocation's claim is {record.ClaimRevision})"
                    : holder.Description;
                return allocation;
            }
            allocation.Status = own.Count > 0 || record.HasPreview ? AllocationStatus.Stale : AllocationStatus.Reserved;
            return allocation;
        }

        private static PortAllocation OnOtherMachine(AllocationRecord record, string machine)
        {
            var allocation = ToAllocation(record);
            allocation.Status = AllocationStatus.Unknown;
            allocation.Host = record.Host;
            allocation.HeldBy = $"machine {machine}'s local {(record.Engine == EngineKind.Process ? "processes" : "engine")} (read-only here: run the command on that machine)";
            return allocation;
        }

        public static PortAllocation ToAllocation(AllocationRecord record) => new PortAllocation
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
