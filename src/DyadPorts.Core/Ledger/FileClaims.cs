using System;
using System.Collections.Generic;
using System.Linq;
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
        private readonly Dictionary<string, (int Port, string Endpoint, EngineKind Engine, long? Claim, string Unnumbered)> _before;

        private FileClaims(Dictionary<string, (int, string, EngineKind, long?, string)> before) => _before = before;

        public static FileClaims Before(StateDocument state) => new FileClaims(state.Allocations.ToDictionary(
            a => a.Key,
            a => (a.Value.Port, a.Value.EngineEndpoint, a.Value.Engine, a.Value.ClaimRevision, a.Value.ClaimRevision == null ? StateJson.Write(a.Value) : null),
            StringComparer.Ordinal));

        public void Stamp(StateDocument after)
        {
            foreach (var (appId, record) in after.Allocations)
            {
                if (_before.TryGetValue(appId, out var had) && had.Port == record.Port && had.Engine == record.Engine &&
                    string.Equals(had.Endpoint, record.EngineEndpoint, StringComparison.Ordinal))
                {
                    if (had.Claim != null)
                    {
                        record.ClaimRevision = had.Claim; // the same claim
                        continue;
                    }
                    record.ClaimRevision = null;
                    if (had.Unnumbered == StateJson.Write(record)) continue; // untouched: as 0.3.0 wrote it
                }
                after.ClaimSequence = Math.Max(after.ClaimSequence, after.Allocations.Values.Max(r => r.ClaimRevision ?? 0)) + 1;
                record.ClaimRevision = after.ClaimSequence;
            }
        }
    }
}
