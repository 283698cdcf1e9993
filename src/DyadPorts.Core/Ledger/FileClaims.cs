using System;
using System.Collections.Generic;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Ledger
{
    /// <summary>
    /// A file state's claim numbers (<see cref="AllocationRecord.ClaimRevision"/>), given the way etcd gives revisions: a
    /// record whose claim is new in a transaction (a new app, or another port, endpoint or engine) gets the state's next
    /// <see cref="StateDocument.ClaimSequence"/>; a record that keeps its claim keeps its number, even when the transaction
    /// replaced the record object. A record of 0.3.0 or older (no number) gets one only when the transaction changed it, so
    /// an untouched 0.2.0 file rewrites unchanged. Made before the transaction runs, applied after it.
    /// </summary>
    internal sealed class FileClaims
    {
        private readonly Dictionary<string, Claim> _before;

        private FileClaims(Dictionary<string, Claim> before) => _before = before;

        public static FileClaims Before(StateDocument state)
        {
            var before = new Dictionary<string, Claim>(state.Allocations.Count, StringComparer.Ordinal);
            foreach (var (appId, record) in state.Allocations) before[appId] = new Claim(record);
            return new FileClaims(before);
        }

        public void Stamp(StateDocument after)
        {
            foreach (var (appId, record) in after.Allocations)
            {
                if (_before.TryGetValue(appId, out var had) && had.Port == record.Port && had.Engine == record.Engine &&
                    string.Equals(had.Endpoint, record.EngineEndpoint, StringComparison.Ordinal))
                {
                    if (had.Number != null)
                    {
                        record.ClaimRevision = had.Number; // the same claim
                        continue;
                    }
                    record.ClaimRevision = null;
                    if (had.Unnumbered == StateJson.Write(record)) continue; // untouched: as 0.3.0 wrote it
                }
                var highest = after.ClaimSequence;
                foreach (var other in after.Allocations.Values) highest = Math.Max(highest, other.ClaimRevision ?? 0);
                after.ClaimSequence = highest + 1;
                record.ClaimRevision = after.ClaimSequence;
            }
        }

        /// <summary>
        /// A record's claim before the transaction: where it was, its number, and for a record without one its text (a
        /// class, not a tuple of the module's enum: framework code over such a tuple is compiled at run time, issue 18).
        /// </summary>
        private sealed class Claim
        {
            public Claim(AllocationRecord record)
            {
                Port = record.Port;
                Endpoint = record.EngineEndpoint;
                Engine = record.Engine;
                Number = record.ClaimRevision;
                Unnumbered = record.ClaimRevision == null ? StateJson.Write(record) : null;
            }

            public int Port { get; }
            public string Endpoint { get; }
            public EngineKind Engine { get; }
            public long? Number { get; }
            public string Unnumbered { get; }
        }
    }
}
