using System;
using System.Collections.Generic;
using System.Linq;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.State;
using Etcdserverpb;

namespace DyadPorts.Fleet
{
    /// <summary>
    /// What a transaction changed, as one etcd Txn: every key it writes or deletes is compared with what was read
    /// (mod revision equal, or create revision 0 for a key that was absent), so two commits on the same read never
    /// both land. A claim (<c>P/ports/host/port</c>) is created only if absent: when another operator claimed the port
    /// meanwhile the Txn fails, and the transaction runs again on a document that shows the holder. The operator's key
    /// is always written (its counters, and this commit's nonce among its last ones).
    /// <para>A provisional record (a start's reservation, <see cref="AllocationRecord.Provisional"/>) and its claim are
    /// put under a lease: the writer's session lease when this commit makes the record provisional, the lease it already
    /// has when it stays provisional; a record that is not provisional and its claim are put without one (a plain key:
    /// etcd detaches a key put without a lease from the lease it had).</para>
    /// </summary>
    internal sealed class EtcdCommit
    {
        private readonly TxnRequest _txn = new TxnRequest();

        private EtcdCommit() { }

        public TxnRequest Txn => _txn;
        public bool IsEmpty { get; private set; }
        public int Events { get; private set; }

        /// <param name="sessionLease">The writer's session lease, granted on first use (only a provisional record needs it).</param>
        public static EtcdCommit Plan(EtcdKeys keys, EtcdSnapshot seen, StateDocument before, StateDocument after, CommitIdentity who, DateTimeOffset now, Func<long> sessionLease)
        {
            ArgumentNullException.ThrowIfNull(sessionLease);
            var commit = new EtcdCommit();
            var changed = false;

            // Apps: one key each; one this commit writes lives under the lease of LeaseOf.
            var beforeHosts = new Dictionary<string, string>(StringComparer.Ordinal);
            var leases = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var (appId, record) in after.Allocations)
            {
                seen.Apps.TryGetValue(appId, out var stored);
                // The record's own host when it has one: a record moved to another machine's local engine (-Force) keeps its
                // endpoint text, and its claim must move with it. Only a record of 0.3.0 or older (no host) keeps the stored one.
                var host = string.IsNullOrEmpty(record.Host) && stored != null && stored.Value.Record.Engine == record.Engine &&
                           string.Equals(stored.Value.Record.EngineEndpoint, record.EngineEndpoint, StringComparison.Ordinal)
                    ? stored.Value.Host
                    : FleetHost.Of(record, who.MachineId);
                beforeHosts[appId] = host;
                if (before.Allocations.TryGetValue(appId, out var old) && EtcdJson.Write(Stored(old)) == EtcdJson.Write(Stored(record)) && stored != null)
                {
                    leases[appId] = stored.Lease; // untouched: as it is
                    continue;
                }
                var appKey = stored?.Key ?? keys.App(appId);
                RefuseForeign(appKey, appId, seen, "its record");
                var lease = LeaseOf(record, stored, sessionLease);
                leases[appId] = lease;
                var value = new StoredApp { Host = host, Operator = who.Operator, Nonce = who.Nonce, Record = Stored(record) };
                commit.Put(appKey, EtcdJson.Write(value), stored?.ModRevision, lease);
                changed = true;
            }
            foreach (var appId in before.Allocations.Keys.Where(id => !after.Allocations.ContainsKey(id)))
            {
                if (!seen.Apps.TryGetValue(appId, out var stored)) continue; // recovered, never stored
                commit.Delete(stored.Key, stored.ModRevision);
                changed = true;
            }

            // Claims: one key per (host, port); the first app (ordinal) that wants a port is its holder.
            var held = Claims(keys, seen.Apps.ToDictionary(a => a.Key, a => (a.Value.Value.Host, a.Value.Value.Record.Port), StringComparer.Ordinal));
            var wanted = Claims(keys, after.Allocations.ToDictionary(a => a.Key, a => (beforeHosts[a.Key], a.Value.Port), StringComparer.Ordinal));
            foreach (var (key, appId) in wanted)
            {
                seen.Ports.TryGetValue(key, out var claim);
                commit._claims[appId] = claim?.CreateRevision; // null: created by this commit
                if (claim != null && claim.Value == appId && held.ContainsKey(key) && claim.Lease == leases[appId]) continue;
                commit.Put(key, appId + "|" + who.Nonce, claim?.ModRevision, leases[appId]); // a claim lives as long as its app
                changed = true;
            }
            foreach (var key in held.Keys.Where(k => !wanted.ContainsKey(k)))
            {
                if (!seen.Ports.TryGetValue(key, out var claim)) continue;
                commit.Delete(key, claim.ModRevision);
                changed = true;
            }

            // The reaper's samples: one key per app.
            foreach (var (appId, sample) in after.Activity)
            {
                seen.Activity.TryGetValue(appId, out var stored);
                if (stored != null && EtcdJson.Write(stored.Value.Sample) == EtcdJson.Write(sample)) continue;
                var sampleKey = stored?.Key ?? keys.ActivityOf(appId);
                RefuseForeign(sampleKey, appId, seen, "its idle reaper's sample");
                commit.Put(sampleKey, EtcdJson.Write(new StoredActivity { Nonce = who.Nonce, Sample = sample }), stored?.ModRevision);
                // A sample belongs to its app: if another operator removed the app meanwhile, this commit must not land
                // (it would leave a sample nothing ever deletes), so the app's key must still be as it was read.
                if (seen.Apps.TryGetValue(appId, out var app)) commit.Requires(app.Key, app.ModRevision);
                changed = true;
            }
            foreach (var (appId, stored) in seen.Activity.Where(a => !after.Activity.ContainsKey(a.Key)))
            {
                commit.Delete(stored.Key, stored.ModRevision);
                changed = true;
            }

            // Counters: the change of each fleet-wide sum lands on this operator's own key.
            var operatorKey = keys.Operator(who.Operator);
            seen.Operators.TryGetValue(operatorKey, out var mine);
            var own = mine != null ? EtcdJson.Copy(mine.Value) : new StoredOperator();
            foreach (var kind in after.Counters.Keys.Union(before.Counters.Keys))
            {
                var delta = (after.Counters.TryGetValue(kind, out var a) ? a : 0) - (before.Counters.TryGetValue(kind, out var b) ? b : 0);
                if (delta == 0) continue;
                own.Counters[kind] = (own.Counters.TryGetValue(kind, out var n) ? n : 0) + delta;
                changed = true;
            }

            // The adopted ids (Copy-DyadPortState): one key, written when the set changed.
            var adopted = seen.AdoptedStateIds?.Value ?? new List<string>();
            if (!after.AdoptedStateIds.SetEquals(adopted))
            {
                commit.Put(keys.AdoptedStateIds, EtcdJson.Write(after.AdoptedStateIds.ToList()), seen.AdoptedStateIds?.ModRevision);
                changed = true;
            }

            // History: one key per event, in the order recorded.
            var index = 0;
            foreach (var e in after.Pending)
            {
                commit.Put(keys.HistoryEvent(now, who.Nonce, index++), EtcdJson.Write(new StoredEvent { Operator = who.Operator, Nonce = who.Nonce, Event = e }), null);
                changed = true;
            }
            commit.Events = index;

            if (!changed)
            {
                commit.IsEmpty = true;
                return commit;
            }
            if (seen.StateId == null) commit.Put(keys.StateId, after.StateId, null); // the state id, once
            own.Recent.Insert(0, who.Nonce);
            if (own.Recent.Count > StoredOperator.RecentCommits) own.Recent.RemoveRange(StoredOperator.RecentCommits, own.Recent.Count - StoredOperator.RecentCommits);
            commit.Put(operatorKey, EtcdJson.Write(own), mine?.ModRevision);
            return commit;
        }

        private readonly Dictionary<string, long?> _claims = new Dictionary<string, long?>(StringComparer.Ordinal);

        /// <summary>
        /// After the commit landed at <paramref name="revision"/>: each record of <paramref name="after"/> gets its claim's
        /// create revision (that revision for a claim key this commit created), as a read would give it.
        /// </summary>
        public void StampClaims(StateDocument after, long revision)
        {
            foreach (var (appId, record) in after.Allocations)
            {
                record.ClaimRevision = _claims.TryGetValue(appId, out var seen) ? seen ?? revision : null;
            }
        }

        /// <summary>The record as the app's key keeps it: its claim is the claim key's, never stored in the value.</summary>
        private static AllocationRecord Stored(AllocationRecord record)
        {
            if (record.ClaimRevision == null) return record;
            var copy = record.Copy();
            copy.ClaimRevision = null;
            return copy;
        }

        /// <summary>
        /// The lease an app's key lives under: none for a plain record; for a provisional one the lease it was stored under
        /// while it stays provisional (another commit touching it does not take it over), else the writer's session lease.
        /// </summary>
        private static long LeaseOf(AllocationRecord record, Seen<StoredApp> stored, Func<long> sessionLease)
        {
            if (!record.Provisional) return 0;
            if (stored != null && stored.Value.Record.Provisional && stored.Lease != 0) return stored.Lease;
            return sessionLease();
        }

        /// <summary>
        /// A key this commit would write holds a value that is not DyadPorts' (<see cref="EtcdSnapshot.Foreign"/>): it is
        /// never overwritten, and the app it belongs to cannot be changed until someone who knows what it is removes it.
        /// </summary>
        private static void RefuseForeign(string key, string appId, EtcdSnapshot seen, string what)
        {
            if (!seen.Foreign.Contains(key)) return;
            throw new DyadPortsException(ErrorIds.StateRecordForeign, FailureCategory.InvalidData, key,
                $"App {appId}: the etcd key '{key}', where {what} goes, holds a value that is not a DyadPorts record (written by hand or by another tool). " +
                "The key was left as it is, and nothing of this change was written. Look at it with 'etcdctl get', and delete it if nothing needs it.");
        }

        /// <summary>(host, port) claim keys of a set of apps: the first app in ordinal order holds a port two of them name.</summary>
        private static Dictionary<string, string> Claims(EtcdKeys keys, Dictionary<string, (string Host, int Port)> apps)
        {
            var claims = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (appId, (host, port)) in apps.OrderBy(a => a.Key, StringComparer.Ordinal))
            {
                if (port <= 0 || host == null) continue;
                claims.TryAdd(keys.Port(host, port), appId);
            }
            return claims;
        }

        private readonly HashSet<string> _written = new HashSet<string>(StringComparer.Ordinal);

        /// <summary>Puts a key that must be as it was read: at <paramref name="seenModRevision"/>, or absent when null.</summary>
        /// <param name="lease">The lease the key lives under; 0: none (a plain key, detached from any lease it had).</param>
        private void Put(string key, string value, long? seenModRevision, long lease = 0)
        {
            if (!_written.Add(key)) return;
            _txn.Compare.Add(Guard(key, seenModRevision));
            _txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = EtcdKeys.Bytes(key), Value = Google.Protobuf.ByteString.CopyFromUtf8(value), Lease = lease } });
        }

        /// <summary>A key this commit does not write must still be at <paramref name="seenModRevision"/> (nothing when it writes it: its put compares already).</summary>
        private void Requires(string key, long seenModRevision)
        {
            if (_written.Contains(key) || !_required.Add(key)) return;
            _txn.Compare.Add(Guard(key, seenModRevision));
        }

        private readonly HashSet<string> _required = new HashSet<string>(StringComparer.Ordinal);

        private void Delete(string key, long seenModRevision)
        {
            if (!_written.Add(key)) return;
            _txn.Compare.Add(Guard(key, seenModRevision));
            _txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = EtcdKeys.Bytes(key) } });
        }

        private static Compare Guard(string key, long? seenModRevision) => seenModRevision.HasValue
            ? new Compare { Key = EtcdKeys.Bytes(key), Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = seenModRevision.Value }
            : new Compare { Key = EtcdKeys.Bytes(key), Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 };
    }

    /// <summary>Who commits and as which commit: the operator (user@machine), its machine, and a nonce unique to this attempt.</summary>
    internal sealed class CommitIdentity
    {
        public CommitIdentity(string operatorName, string machineId, string nonce)
        {
            Operator = operatorName;
            MachineId = machineId;
            Nonce = nonce;
        }

        public string Operator { get; }
        public string MachineId { get; }
        public string Nonce { get; }
    }
}
