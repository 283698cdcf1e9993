using System;
using System.Collections.Generic;

namespace DyadPorts.Core.State
{
    /// <summary>One app's allocation as stored on disk (its JSON: <see cref="StateJson"/>).</summary>
    public sealed class AllocationRecord
    {
        public string AppId { get; set; }
        public int Port { get; set; }
        public EngineKind Engine { get; set; }
        public string EngineEndpoint { get; set; }
        public DateTimeOffset AllocatedAt { get; set; }
        /// <summary>Set once a preview was started for the app: its absence later makes the allocation Stale.</summary>
        public string ContainerId { get; set; }
        public int? ProcessId { get; set; }
        /// <summary>With ProcessId, tells a live preview from a reused pid. Without it a pid is never provably ours.</summary>
        public DateTimeOffset? ProcessStartedAt { get; set; }
        /// <summary>
        /// The process's start in clock ticks since boot (/proc/&lt;pid&gt;/stat field 22), exact where ProcessStartedAt is a
        /// wall-clock reading; Linux only. Absent in 0.2.0's records, which are then matched on ProcessStartedAt with its
        /// old tolerance. 0.2.0 ignores the field (and drops it when it rewrites the file).
        /// </summary>
        public long? ProcessStartTicks { get; set; }
        public string Image { get; set; }
        /// <summary>
        /// The fleet host whose port space the port is in (<see cref="Engines.MachineIdentity"/>): machine:&lt;machine id&gt; for
        /// a machine's local engine or process preview, else the remote engine's host. Absent in records of 0.3.0 and
        /// older, which are read as this machine's when their endpoint is local; older versions ignore the field.
        /// </summary>
        public string Host { get; set; }
        /// <summary>
        /// A start's reservation, not yet confirmed by a running preview: set by the reservation, cleared once the preview
        /// is recorded. On etcd such a record (and its port claim) lives under the operator's lease, so a start killed
        /// midway costs only the lease's life; a file state just keeps it. Written only when set; older versions ignore it.
        /// </summary>
        public bool Provisional { get; set; }

        /// <summary>
        /// The identity of the app's claim on its (host, port): the ledger's, never the caller's. On etcd the revision at
        /// which the claim key P/ports/&lt;host&gt;/&lt;port&gt; was created (derived from the key on every read, never stored in
        /// the app's value); in a file the state's <see cref="StateDocument.ClaimSequence"/> when the claim was made. A new
        /// claim (a new record, another port or endpoint) always has a larger one than the app's earlier claims. Containers
        /// carry it as the label dyadports.claim, which tells a stale claimant (<see cref="Engines.Ownership.IsStaleClaimant"/>).
        /// Absent in records of 0.3.0 and older until a new claim is made; older versions ignore the field.
        /// </summary>
        public long? ClaimRevision { get; set; }

        public bool HasPreview => ContainerId != null || ProcessId.HasValue;

        /// <summary>A copy of the record (every field is a value or a string).</summary>
        public AllocationRecord Copy() => (AllocationRecord)MemberwiseClone();
    }

    /// <summary>The state file: its identity and every app's allocation, keyed by AppId (its JSON: <see cref="StateJson"/>).</summary>
    public sealed class StateDocument
    {
        /// <summary>2 added <see cref="StateId"/>; version 1 files migrate forward on their next write.</summary>
        public const int CurrentVersion = 2;

        public int Version { get; set; } = CurrentVersion;

        /// <summary>
        /// Which state this is. Every container DyadPorts creates carries it as the label dyadports.state, and
        /// AUTO_KILL_PORT and recovery act only on containers of their own state.
        /// </summary>
        public string StateId { get; set; }

        /// <summary>
        /// Other states' ids this state took over (Copy-DyadPortState): containers labelled with one of them are this
        /// state's own, as if labelled with <see cref="StateId"/>. New containers always carry <see cref="StateId"/>.
        /// Written only when not empty; 0.2.0 and 0.3.0 ignore the field (and drop it when they rewrite the file).
        /// </summary>
        public SortedSet<string> AdoptedStateIds { get; set; } = new SortedSet<string>(StringComparer.Ordinal);

        /// <summary>Whether <paramref name="stateId"/> is this state's: its own id or one it adopted.</summary>
        public bool Owns(string stateId) =>
            stateId != null && (string.Equals(stateId, StateId, StringComparison.Ordinal) || (AdoptedStateIds?.Contains(stateId) ?? false));

        /// <summary>
        /// A file state's claim counter: the last <see cref="AllocationRecord.ClaimRevision"/> given (the file ledger gives
        /// each new claim the next one). Written only once a claim was made, so 0.2.0's files rewrite unchanged; 0.2.0
        /// ignores it. An etcd state does not use it (its claims are etcd revisions).
        /// </summary>
        public long ClaimSequence { get; set; }

        public OrdinalDictionary<AllocationRecord> Allocations { get; set; } = new OrdinalDictionary<AllocationRecord>();

        /// <summary>
        /// Journaled decisions by kind since this state began. Kept here, not recounted from the journal, so
        /// that rotating the journal never makes a counter go down (Prometheus rate() would spike).
        /// </summary>
        public OrdinalDictionary<long> Counters { get; set; } = new OrdinalDictionary<long>();

        /// <summary>The idle reaper's evidence: per app, the first sample of its current run of unchanged traffic.</summary>
        public OrdinalDictionary<ActivitySample> Activity { get; set; } = new OrdinalDictionary<ActivitySample>();

        /// <summary>Decisions made in this update, appended to the journal under the same lock once the state is written.</summary>
        internal List<PortEvent> Pending { get; } = new List<PortEvent>();

        /// <summary>Journals a decision of this update and counts it.</summary>
        /// <summary>This process's operator, user@machine, as every event it records names it.</summary>
        public static string OperatorName { get; } = Environment.UserName + "@" + Environment.MachineName;

        public void Record(PortEvent e)
        {
            if (e.Time == default) e.Time = DateTimeOffset.UtcNow;
            e.Operator ??= OperatorName;
            Pending.Add(e);
            var key = e.Kind.ToString();
            Counters[key] = (Counters.TryGetValue(key, out var n) ? n : 0) + 1;
        }
    }

    /// <summary>
    /// One look at a preview's activity, kept per app as the start of its current quiet run. 0.2.0 wrote only at,
    /// preview and value; a sample without a signal is one of those and only ever serves as no baseline.
    /// </summary>
    public sealed class ActivitySample
    {
        /// <summary>A container's accepted connections (PassiveOpens of its network namespace).</summary>
        public const string AcceptedSignal = "accepted";
        /// <summary>A container's transmitted bytes: the fallback when its namespace cannot be read.</summary>
        public const string BytesSignal = "bytes";
        /// <summary>A process preview's connections to its port, as a sorted text.</summary>
        public const string ConnectionsSignal = "connections";

        /// <summary>When the current quiet run began: the first sample after the last sign of use.</summary>
        public DateTimeOffset At { get; set; }
        /// <summary>Which preview was sampled: a new container or process starts a new series.</summary>
        public string Preview { get; set; }
        /// <summary>The latest reading of <see cref="Signal"/>: accepted connections or transmitted bytes (containers), or the connections to the port (processes).</summary>
        public string Value { get; set; }
        /// <summary>What <see cref="Value"/> measures; null in samples written by 0.2.0.</summary>
        public string Signal { get; set; }
        /// <summary>Established connections to the preview's port at the sample; null when unknown (bytes).</summary>
        public int? Attached { get; set; }
    }
}
