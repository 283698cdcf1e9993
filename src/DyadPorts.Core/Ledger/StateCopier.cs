using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Ledger
{
    /// <summary>
    /// Copies one state's allocations into another (Copy-DyadPortState): a file state into etcd, etcd into a file as a
    /// backup, or any ledger into any other. Only the ledgers are used, never an engine.
    /// <list type="bullet">
    /// <item>Each allocation is copied with its port and its preview record (container id, process id and start, image,
    /// engine and endpoint) and the reaper's sample, when the destination has none for the app. A record without a fleet
    /// host gets this machine's view of it (<see cref="MachineIdentity"/>); hosts are compared as fleet hosts, so the same
    /// port on two machines' local engines is no conflict.</item>
    /// <item>Ownership moves with it: the destination adopts the source's state id (and the ids the source adopted),
    /// so the previews the source started, labelled with its id, are the destination's own: Active, stoppable and
    /// reapable. New previews still carry the destination's own id. Ids are adopted only when at least one allocation
    /// was copied or already there.</item>
    /// <item>A conflict (the destination has the app with another port or another preview, or the port on the same host
    /// with another app) skips that record, and is reported as a non-terminating <see cref="ErrorIds.StateCopyConflict"/>;
    /// the rest is copied. The destination keeps what it had.</item>
    /// <item>Everything lands in one destination transaction: all the non-conflicting records or nothing.</item>
    /// <item>History: one Allocated event per copied app, its reason "copied from &lt;source&gt;" (so the destination's
    /// Allocated counter counts copies too). Nothing is recorded for identical or conflicting records.</item>
    /// </list>
    /// The source is read once, as stored (<see cref="IAllocationLedger.ReadAsStored"/>: never locked, migrated, repaired or
    /// rebuilt on disk), and never written by the copy, nor by its plan.
    /// </summary>
    public sealed class StateCopier
    {
        private readonly IAllocationLedger _source;
        private readonly IAllocationLedger _destination;
        private readonly MachineIdentity _machine;
        private StateDocument _from;

        public StateCopier(IAllocationLedger source, IAllocationLedger destination) : this(source, destination, MachineIdentity.Current)
        {
        }

        /// <param name="machine">This machine: a record without a fleet host (0.3.0 and older) is on its local host when its endpoint is local.</param>
        public StateCopier(IAllocationLedger source, IAllocationLedger destination, MachineIdentity machine)
        {
            _source = source ?? throw new ArgumentNullException(nameof(source));
            _destination = destination ?? throw new ArgumentNullException(nameof(destination));
            _machine = machine ?? MachineIdentity.Current;
        }

        /// <summary>
        /// What a copy would do now, writing nothing anywhere. The destination is read as stored: a missing one is empty,
        /// and one the copy could not use (newer, unsafe, unreachable, not a state) fails here as the copy would.
        /// </summary>
        public StateCopyResult Plan(IOperationLog log, CancellationToken cancellationToken)
        {
            StateDocument into;
            try
            {
                into = _destination.ReadAsStored(NullOperationLog.Instance, cancellationToken); // its own warnings are the copy's to give
            }
            catch (DyadPortsException e) when (e.ErrorId == ErrorIds.StateFileNotFound)
            {
                into = new StateDocument(); // created by the copy
            }
            var plan = Decide(Source(log, cancellationToken), into, _source.Location, _destination.Location, _machine);
            return plan.Result(committed: false);
        }

        /// <summary>
        /// Copies in one destination transaction; <paramref name="conflict"/> is told of each skipped record after the
        /// commit (never while the destination is held), in AppId order.
        /// </summary>
        public StateCopyResult Copy(Action<DyadPortsException> conflict, IOperationLog log, CancellationToken cancellationToken)
        {
            var from = Source(log, cancellationToken);
            var plan = _destination.Transact((state, _) =>
            {
                var decided = Decide(from, state, _source.Location, _destination.Location, _machine);
                decided.Apply(from, state, _machine);
                return decided;
            }, log, cancellationToken);
            foreach (var e in plan.Skipped) conflict?.Invoke(e);
            return plan.Result(committed: true);
        }

        private StateDocument Source(IOperationLog log, CancellationToken cancellationToken) => _from ??= _source.ReadAsStored(log, cancellationToken);

        /// <summary>Pure: which of <paramref name="from"/>'s records go into <paramref name="into"/>, which are there already, which conflict.</summary>
        internal static CopyPlan Decide(StateDocument from, StateDocument into, string source, string destination, MachineIdentity machine)
        {
            bool SameHost(AllocationRecord a, AllocationRecord b) => string.Equals(machine.HostOf(a), machine.HostOf(b), StringComparison.Ordinal);
            var plan = new CopyPlan(source, destination);
            var taken = into.Allocations.Values.ToList(); // grows with the records this copy adds
            foreach (var record in from.Allocations.Values.OrderBy(r => r.AppId, StringComparer.Ordinal))
            {
                if (into.Allocations.TryGetValue(record.AppId, out var there))
                {
                    if (there.Port == record.Port && SameHost(there, record) && SamePreview(there, record))
                    {
                        plan.Identical.Add(record.AppId);
                    }
                    else
                    {
                        plan.Skipped.Add(Conflict(record.AppId, there.Port != record.Port || !SameHost(there, record)
                            ? $"App '{record.AppId}' has port {record.Port} on {machine.HostOf(record)} in '{source}', but port {there.Port} on {machine.HostOf(there)} in '{destination}'."
                            : $"App '{record.AppId}' has port {record.Port} in both '{source}' and '{destination}', but another preview ({Describe(record)} there, {Describe(there)} here)."));
                    }
                    continue;
                }
                var holder = taken.FirstOrDefault(r => r.Port == record.Port && SameHost(r, record));
                if (holder != null)
                {
                    plan.Skipped.Add(Conflict(record.AppId,
                        $"Port {record.Port} on {machine.HostOf(record)} is app '{record.AppId}''s in '{source}', but app '{holder.AppId}''s in '{destination}'."));
                    continue;
                }
                plan.Copied.Add(record.AppId);
                taken.Add(record);
            }
            if (plan.Copied.Count + plan.Identical.Count > 0)
            {
                foreach (var id in new[] { from.StateId }.Concat(from.AdoptedStateIds ?? new SortedSet<string>()))
                {
                    if (!string.IsNullOrEmpty(id) && !into.Owns(id)) plan.Adopted.Add(id);
                }
            }
            return plan;
        }

        private static bool SamePreview(AllocationRecord a, AllocationRecord b) =>
            string.Equals(a.ContainerId, b.ContainerId, StringComparison.Ordinal) && a.ProcessId == b.ProcessId;

        private static string Describe(AllocationRecord r) =>
            r.ContainerId != null ? string.Concat("container ", r.ContainerId.AsSpan(0, Math.Min(12, r.ContainerId.Length)))
            : r.ProcessId.HasValue ? "process " + r.ProcessId.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : "no preview";

        private static DyadPortsException Conflict(string appId, string what) =>
            new DyadPortsException(ErrorIds.StateCopyConflict, FailureCategory.ResourceExists, appId,
                what + " It was not copied, and the destination keeps what it had. Release one of them (Remove-DyadPortAllocation) and copy again to take the other.");

        /// <summary>One decision over one pair of documents; applied inside the destination's transaction.</summary>
        internal sealed class CopyPlan
        {
            private readonly string _source;
            private readonly string _destination;

            public CopyPlan(string source, string destination)
            {
                _source = source;
                _destination = destination;
            }

            public List<string> Copied { get; } = new List<string>();
            public List<string> Identical { get; } = new List<string>();
            public List<DyadPortsException> Skipped { get; } = new List<DyadPortsException>();
            public List<string> Adopted { get; } = new List<string>();

            /// <summary>
            /// Writes the copied records (and their samples), the adopted ids and one event per copied app into <paramref name="into"/>.
            /// A record without a fleet host (0.3.0 and older) gets the one it has seen from <paramref name="machine"/>, where the copy
            /// runs: a file's local previews stay this machine's when the copy lands in a fleet state.
            /// </summary>
            public void Apply(StateDocument from, StateDocument into, MachineIdentity machine)
            {
                foreach (var appId in Copied)
                {
                    var record = from.Allocations[appId].Copy();
                    record.Host = machine.HostOf(record);
                    // A reservation of a start that never finished is a plain allocation here: in a fleet state a provisional
                    // record lives under its writer's lease, and this copy's lease ends with the command.
                    record.Provisional = false;
                    into.Allocations[appId] = record;
                    if (from.Activity.TryGetValue(appId, out var sample) && !into.Activity.ContainsKey(appId))
                    {
                        into.Activity[appId] = new ActivitySample { At = sample.At, Preview = sample.Preview, Value = sample.Value, Signal = sample.Signal, Attached = sample.Attached };
                    }
                    into.Record(new PortEvent
                    {
                        Kind = PortEventKind.Allocated,
                        AppId = appId,
                        Port = record.Port,
                        Endpoint = record.EngineEndpoint,
                        ContainerId = record.ContainerId,
                        ProcessId = record.ProcessId,
                        Reason = "copied from " + _source,
                    });
                }
                into.AdoptedStateIds ??= new SortedSet<string>(StringComparer.Ordinal);
                foreach (var id in Adopted) into.AdoptedStateIds.Add(id);
            }

            public StateCopyResult Result(bool committed) => new StateCopyResult
            {
                Source = _source,
                Destination = _destination,
                Copied = Copied.Count,
                Identical = Identical.Count,
                Conflicts = Skipped.Count,
                CopiedApps = Copied.ToArray(),
                ConflictingApps = Skipped.Select(e => (string)e.Target).ToArray(),
                AdoptedStateIds = Adopted.ToArray(),
                Committed = committed,
            };
        }
    }
}
