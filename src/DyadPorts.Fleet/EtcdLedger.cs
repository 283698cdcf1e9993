using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Ledger;
using DyadPorts.Core.State;
using Etcdserverpb;
using Google.Protobuf;
using Mvccpb;
using Newtonsoft.Json;

namespace DyadPorts.Fleet
{
    /// <summary>
    /// The allocation table on an etcd cluster: the ledger's second implementation (<see cref="IAllocationLedger"/>).
    /// A transaction reads the table at one revision (one round trip), runs on a fresh document, and commits what it
    /// changed as one etcd Txn that compares every key it writes with what it read (<see cref="EtcdCommit"/>); on a
    /// failed compare it reads again and runs again, so a port claimed meanwhile by another operator is seen held and
    /// the next one is chosen. The key layout is <see cref="EtcdKeys"/>'s.
    /// <para>Bounded failure: every call has a deadline (<see cref="EtcdOptions.Timeout"/>); an unreachable cluster or
    /// one without quorum is <see cref="ErrorIds.StateStoreUnavailable"/>. A commit whose answer was lost (a timeout or a
    /// member lost after it was sent) is ambiguous: each attempt carries a nonce, which lands in the operator's key with
    /// the commit, and the next read tells whether it landed: if so its result counts, and it is never committed twice
    /// (a later attempt compares the operator key, which the landed one changed).</para>
    /// <para>Keys stay bounded: the history keeps the newest <see cref="EtcdOptions.HistoryLimit"/> events and none older
    /// than <see cref="EtcdOptions.HistoryMaxAge"/>, trimmed after about one commit in <see cref="TrimEvery"/> with two range
    /// deletes; apps, claims and samples are one key each and go with their app.</para>
    /// </summary>
    public sealed class EtcdLedger : IAllocationLedger
    {
        /// <summary>Keys per answer when the history is read (<see cref="HistoryKeys"/>).</summary>
        internal const int HistoryPage = 500;

        /// <summary>About one commit in this many that records events trims the history afterwards.</summary>
        public const int TrimEvery = 32;
        private const int MaxRounds = 200;
        private static readonly TimeSpan PeekTimeout = TimeSpan.FromSeconds(2);

        private readonly EtcdConnection _cluster;
        private readonly bool _ownsCluster;
        private readonly EtcdKeys _keys;
        private readonly IStateRecovery _recovery;
        private readonly bool _writesNothing;
        private readonly string _instance = Guid.NewGuid().ToString("N").Substring(0, 12);
        private readonly object _leaseGate = new object();
        private EtcdLease _session;
        private bool _disposed;
        private readonly IDisposable _use;
        private long _lockCycles;
        private long _commits;

        /// <param name="writesNothing">A command under -WhatIf: a state recovered for a new prefix is read, and not committed.</param>
        /// <param name="use">This ledger's use of a connection the session shares (<see cref="EtcdConnection.Use"/>), ended at Dispose; null for none.</param>
        public EtcdLedger(EtcdConnection cluster, IStateRecovery recovery, bool ownsCluster = false, bool writesNothing = false, IDisposable use = null)
        {
            _use = use;
            _cluster = cluster ?? throw new ArgumentNullException(nameof(cluster));
            _ownsCluster = ownsCluster;
            _recovery = recovery;
            _writesNothing = writesNothing;
            _keys = new EtcdKeys(cluster.Location.Prefix);
            if (string.IsNullOrEmpty(cluster.Options.Operator)) throw new ArgumentException("The options name no operator.", nameof(cluster));
            if (string.IsNullOrEmpty(cluster.Options.MachineId)) throw new ArgumentException("The options name no machine id.", nameof(cluster));
        }

        /// <summary>A ledger with its own connection, for the location in DYAD_PORTS_STATE and the rest of <paramref name="environment"/>.</summary>
        public static EtcdLedger Open(string location, Func<string, string> environment, IStateRecovery recovery) =>
            new EtcdLedger(new EtcdConnection(EtcdLocation.Parse(location), EtcdOptions.FromEnvironment(environment, FleetIdentity.Operator(), FleetIdentity.MachineId())), recovery, ownsCluster: true);

        public string Location => _cluster.Location.Text;
        public long LockCycles => Interlocked.Read(ref _lockCycles);
        public bool WritesNothing => _writesNothing;
        internal EtcdKeys Keys => _keys;

        public StateDocument Read(IOperationLog log, CancellationToken cancellationToken)
        {
            var snapshot = ReadSnapshot(_cluster.NewDeadline(), cancellationToken);
            if (snapshot.StateId != null || _recovery == null) return snapshot.ToDocument(DerivedStateId(snapshot), _keys);
            // Nothing stored yet: what recovery finds is the state. Only a non-empty one needs writing.
            var rebuilt = Rebuild(DerivedStateId(snapshot), log, cancellationToken);
            if (rebuilt == null || rebuilt.Allocations.Count == 0) return snapshot.ToDocument(DerivedStateId(snapshot), _keys);
            if (_writesNothing) return Recovered(rebuilt, DerivedStateId(snapshot));
            return Transact((state, _) => state, log, cancellationToken);
        }

        public StateDocument ReadAsStored(IOperationLog log, CancellationToken cancellationToken)
        {
            var snapshot = ReadSnapshot(_cluster.NewDeadline(), cancellationToken);
            return snapshot.ToDocument(snapshot.StateId ?? DerivedStateId(snapshot), _keys); // never rebuilt: etcd is only read
        }

        public StateDocument Peek()
        {
            try
            {
                var snapshot = _cluster.Once((client, deadline, token) => EtcdSnapshot.From(client.Transaction(EtcdSnapshot.Request(_keys), null, deadline, token), _keys),
                    DateTime.UtcNow + (PeekTimeout < _cluster.Options.Timeout ? PeekTimeout : _cluster.Options.Timeout), CancellationToken.None);
                return snapshot.StateId == null ? null : snapshot.ToDocument(snapshot.StateId, _keys);
            }
            catch (Exception e) when (e is DyadPortsException || e is OperationCanceledException || e is JsonException)
            {
                return null;
            }
        }

        public T Transact<T>(LedgerTransaction<T> transaction, IOperationLog log, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(transaction);
            if (_writesNothing) throw WriteRefusal.For(Location);
            log ??= NullOperationLog.Instance;
            var deadline = _cluster.NewDeadline();
            var ambiguous = new List<(string Nonce, T Result, BufferedLog Said)>();
            StateDocument rebuilt = null;
            var recovered = false;
            for (var round = 1; ; round++)
            {
                var snapshot = ReadSnapshot(deadline, cancellationToken);
                var who = new CommitIdentity(_cluster.Options.Operator, _cluster.Options.MachineId, $"{_instance}.{Interlocked.Increment(ref _commits).ToString(CultureInfo.InvariantCulture)}");

                // An earlier attempt whose answer was lost: if its nonce is among the operator's last commits, it landed.
                if (Landed(snapshot, who.Operator, ambiguous, log, out var landed)) return landed;

                var stateId = snapshot.StateId ?? DerivedStateId(snapshot);
                if (snapshot.StateId == null && _recovery != null && !recovered)
                {
                    rebuilt = Rebuild(stateId, log, cancellationToken); // nothing is held: etcd holds nothing for us between calls
                    recovered = true;
                }
                var before = snapshot.ToDocument(stateId, _keys);
                var after = snapshot.StateId == null && rebuilt != null ? Recovered(rebuilt, stateId) : snapshot.ToDocument(stateId, _keys);
                Interlocked.Increment(ref _lockCycles);
                var said = new BufferedLog(log); // a run that does not commit says nothing
                var answer = transaction(after, said);
                var commit = EtcdCommit.Plan(_keys, snapshot, before, after, who, DateTimeOffset.UtcNow, () => SessionLease(cancellationToken));
                if (commit.IsEmpty)
                {
                    said.Replay();
                    return answer;
                }

                TxnResponse response;
                try
                {
                    response = _cluster.Once((client, d, token) => client.Transaction(commit.Txn, null, d, token), deadline, cancellationToken);
                }
                catch (DyadPortsException e) when (e.ErrorId == ErrorIds.StateStoreUnavailable && EtcdErrors.IsAmbiguous(e.InnerException))
                {
                    log.Verbose($"The etcd commit {who.Nonce} got no answer ({e.InnerException?.Message}); reading back whether it landed.");
                    ambiguous.Add((who.Nonce, answer, said));
                    if (DateTime.UtcNow < deadline) continue;
                    // Out of time without an answer (a slow leader, a member that took the request and went silent): etcd
                    // may still have applied it. Read back once, within a bound of its own, before saying it failed.
                    if (LandedLate(who.Operator, ambiguous, e, log, cancellationToken, out var late)) return late;
                    throw;
                }
                if (response.Succeeded)
                {
                    commit.StampClaims(after, response.Header.Revision); // the caller sees each record's claim
                    said.Replay();
                    if (commit.Events > 0 && Random.Shared.Next(TrimEvery) == 0) EtcdHistoryTrim.Run(_cluster, _keys, DateTimeOffset.UtcNow, log);
                    return answer;
                }
                // A failed compare may be this very commit landing twice: gRPC re-sends a call whose connection was lost
                // before any answer (its retry policy), and the repeat fails the compare the first one satisfied. So its
                // nonce is read back like an ambiguous one's: if it landed, it counts, once.
                ambiguous.Add((who.Nonce, answer, said));
                var backoff = TimeSpan.FromMilliseconds(Random.Shared.Next(1, 5 + Math.Min(round, 20) * 2));
                if (round >= MaxRounds || DateTime.UtcNow + backoff >= deadline) // lost to others, not to a silent cluster
                {
                    // This round's own commit may have landed already (a repeat by gRPC failed the compare): read it back once.
                    if (Landed(ReadSnapshot(_cluster.NewDeadline(), cancellationToken), who.Operator, ambiguous, log, out var last)) return last;
                    throw new DyadPortsException(ErrorIds.StateStoreBusy, FailureCategory.ResourceBusy, Location,
                        $"The etcd state at {_cluster.Location.EndpointList} changed under this command {round} times in a row (other operators committing); it gave up within its bound. Nothing was half-written. Run the command again.");
                }
                log.Verbose($"The etcd state changed since it was read (round {round}); reading it again.");
                cancellationToken.WaitHandle.WaitOne(backoff);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        /// <summary>
        /// After the transaction's own bound ran out with a commit unanswered: whether it landed after all, read back within
        /// a bound of its own. A read-back that cannot be made either says that the commit may have landed.
        /// </summary>
        private bool LandedLate<T>(string operatorName, List<(string Nonce, T Result, BufferedLog Said)> ambiguous, DyadPortsException unanswered, IOperationLog log, CancellationToken cancellationToken, out T result)
        {
            EtcdSnapshot back;
            try
            {
                back = ReadSnapshot(_cluster.NewDeadline(), cancellationToken);
            }
            catch (DyadPortsException e) when (e.ErrorId == ErrorIds.StateStoreUnavailable)
            {
                throw new DyadPortsException(ErrorIds.StateStoreUnavailable, FailureCategory.ConnectionError, Location,
                    $"The etcd cluster at {_cluster.Location.EndpointList} did not answer a commit within {_cluster.Options.Timeout.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s, " +
                    "and could not be read back either: the change may have landed (an etcd transaction lands whole or not at all). " +
                    "See with Get-DyadPortAllocation before running the command again.", unanswered);
            }
            return Landed(back, operatorName, ambiguous, log, out result);
        }

        /// <summary>Whether one of the commits whose answer was lost is among the operator's last commits in <paramref name="snapshot"/>: it landed, and counts once.</summary>
        private bool Landed<T>(EtcdSnapshot snapshot, string operatorName, List<(string Nonce, T Result, BufferedLog Said)> ambiguous, IOperationLog log, out T result)
        {
            result = default;
            if (ambiguous.Count == 0 || !snapshot.Operators.TryGetValue(_keys.Operator(operatorName), out var mine)) return false;
            foreach (var (nonce, answer, earlier) in ambiguous)
            {
                if (!mine.Value.Recent.Contains(nonce)) continue;
                earlier.Replay();
                log.Verbose($"The etcd commit {nonce} whose answer was lost had landed: it counts, once.");
                result = answer;
                return true;
            }
            return false;
        }

        public IReadOnlyList<PortEvent> History(IOperationLog log, CancellationToken cancellationToken)
        {
            try
            {
                // Commit order: the create revision (one per commit), then the key (a commit's events in the order recorded).
                return HistoryKeys(cancellationToken).OrderBy(kv => kv.CreateRevision).ThenBy(kv => kv.Key.ToStringUtf8(), StringComparer.Ordinal)
                    .Select(kv => JsonConvert.DeserializeObject<StoredEvent>(kv.Value.ToStringUtf8(), EtcdJson.Settings)).Where(stored => stored?.Event != null)
                    .Select(stored => { stored.Event.Operator ??= stored.Operator; return stored.Event; })
                    .Where(e => e != null).ToList();
            }
            catch (Exception e) when (e is DyadPortsException || e is JsonException)
            {
                log?.Warning($"The history in the etcd state at {Location} could not be read: {e.Message}");
                return Array.Empty<PortEvent>();
            }
        }

        /// <summary>
        /// Every key of the history, read in pages of <see cref="HistoryPage"/> keys: one range of the whole history (up to
        /// <see cref="EtcdOptions.HistoryLimit"/> events of a few hundred bytes each) would pass gRPC's 4 MB limit on one
        /// answer. Each page is read at the newest revision, not pinned to the first page's: a pinned revision can be
        /// compacted between two pages (etcd then refuses the read), and the history only grows at its end (new keys
        /// sort after older ones) and is trimmed at its start, so a read spread over pages misses nothing that was
        /// committed before it began and not trimmed meanwhile.
        /// </summary>
        private List<KeyValue> HistoryKeys(CancellationToken cancellationToken)
        {
            var keys = new List<KeyValue>();
            var from = EtcdKeys.Bytes(_keys.History);
            var end = EtcdKeys.RangeEnd(_keys.History);
            while (true)
            {
                var request = new RangeRequest { Key = from, RangeEnd = end, Limit = HistoryPage };
                var page = _cluster.Retrying((client, deadline, token) => client.Get(request, null, deadline, token), _cluster.NewDeadline(), cancellationToken);
                keys.AddRange(page.Kvs);
                if (!page.More || page.Kvs.Count == 0) return keys;
                from = ByteString.CopyFrom(page.Kvs[page.Kvs.Count - 1].Key.Concat(new byte[] { 0 }).ToArray()); // the next key after the last
            }
        }

        public IAppLock LockApp(string appId, TimeSpan timeout, Func<string, TimeSpan, DyadPortsException> timedOut, CancellationToken cancellationToken) =>
            EtcdAppLock.Acquire(_cluster, _keys.AppLock(appId), $"{Location} ({_keys.AppLock(appId)})", timeout, timedOut, cancellationToken);

        private EtcdSnapshot ReadSnapshot(DateTime deadline, CancellationToken cancellationToken)
        {
            try
            {
                return _cluster.Retrying((client, d, token) => EtcdSnapshot.From(client.Transaction(EtcdSnapshot.Request(_keys), null, d, token), _keys), deadline, cancellationToken);
            }
            catch (JsonException e)
            {
                throw new DyadPortsException(ErrorIds.StateFileCorrupt, FailureCategory.InvalidData, Location,
                    $"A value under the etcd prefix {_keys.Prefix} at {_cluster.Location.EndpointList} is not DyadPorts' JSON: {e.Message}. Nothing was changed.", e);
            }
        }

        /// <summary>The prefix's state id when none is stored yet: the same for every operator (the cluster and the prefix).</summary>
        private string DerivedStateId(EtcdSnapshot snapshot)
        {
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes("etcd\n" + snapshot.ClusterId.ToString("x16", CultureInfo.InvariantCulture) + "\n" + _keys.Prefix));
            return string.Concat(hash.Take(8).Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
        }

        private StateDocument Rebuild(string stateId, IOperationLog log, CancellationToken cancellationToken)
        {
            try
            {
                return _recovery.Rebuild(new StateIdentity(stateId), log, cancellationToken); // a new prefix has adopted nothing
            }
            catch (DyadPortsException e) when (e.ErrorId == ErrorIds.StateFileCorrupt)
            {
                log.Verbose($"Nothing recovered for the new etcd prefix {_keys.Prefix}: {e.Message}");
                return null; // no engine answered: the prefix starts empty, nothing is lost
            }
        }

        private static StateDocument Recovered(StateDocument rebuilt, string stateId)
        {
            var copy = StateStore.Clone(rebuilt);
            copy.StateId = stateId;
            foreach (var e in rebuilt.Pending) copy.Pending.Add(e);
            return copy;
        }

        /// <summary>
        /// This ledger's session lease, under which its starts' reservations live (<see cref="AllocationRecord.Provisional"/>):
        /// granted on the first one, kept alive until the ledger is disposed (then revoked: a reservation no start
        /// confirmed goes with it) or the process dies (then it expires after its TTL).
        /// </summary>
        private long SessionLease(CancellationToken cancellationToken)
        {
            lock (_leaseGate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                _session ??= EtcdLease.Grant(_cluster, cancellationToken);
                return _session.Id;
            }
        }

        public void Dispose()
        {
            try
            {
                lock (_leaseGate)
                {
                    _disposed = true;
                    _session?.Dispose();
                    _session = null;
                }
                if (_ownsCluster) _cluster.Dispose();
            }
            finally
            {
                _use?.Dispose(); // after the lease's revoke, which needs the connection
            }
        }

        /// <summary>The connection this ledger works on.</summary>
        internal EtcdConnection Connection => _cluster;
    }
}
