using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.State;
using DyadPorts.Fleet;
using DyadPorts.Tests.Support;
using Etcdserverpb;
using Google.Protobuf;
using Xunit;

namespace DyadPorts.Tests.Ledger
{
    /// <summary>What only the etcd ledger has: its key layout, claims that fail on an existing port key, several
    /// operators at once, per-operator counters, lease-backed locks, and bounded failure. Against the real test cluster.</summary>
    public sealed partial class EtcdLedgerTests : IDisposable
    {
        private readonly string _prefix = TestEtcd.NewPrefix();
        private readonly List<IDisposable> _opened = new List<IDisposable>();

        private EtcdLedger Open(EtcdOptions options = null)
        {
            var ledger = new EtcdLedger(TestEtcd.Connect(_prefix, options), null, ownsCluster: true);
            lock (_opened) _opened.Add(ledger);
            return ledger;
        }

        private EtcdConnection Raw(EtcdOptions options = null)
        {
            var cluster = TestEtcd.Connect(_prefix, options);
            lock (_opened) _opened.Add(cluster);
            return cluster;
        }

        public void Dispose()
        {
            TestEtcd.DeletePrefix(_prefix);
            lock (_opened) foreach (var d in _opened) d.Dispose();
        }

        private static AllocationRecord Record(string appId, int port) =>
            new AllocationRecord { AppId = appId, Port = port, Engine = EngineKind.Process, AllocatedAt = DateTimeOffset.UtcNow };

        /// <summary>The lowest port of the range no allocation of the document has: the chooser in miniature.</summary>
        private static int Choose(StateDocument state, int first, int last) =>
            Enumerable.Range(first, last - first + 1).First(p => state.Allocations.Values.All(r => r.Port != p));

        private static int Allocate(StateDocument state, string appId, int first, int last)
        {
            var port = Choose(state, first, last);
            state.Allocations[appId] = Record(appId, port);
            state.Record(new PortEvent { Kind = PortEventKind.Allocated, AppId = appId, Port = port });
            return port;
        }

        [Fact]
        public void Each_app_and_each_claimed_port_is_a_key_of_its_own()
        {
            var ledger = Open();
            ledger.Transact((s, _) => Allocate(s, "a", 21801, 21809), NullOperationLog.Instance, default);
            ledger.Transact((s, _) => Allocate(s, "b", 21801, 21809), NullOperationLog.Instance, default);
            var keys = TestEtcd.Dump(Raw(), _prefix).ToDictionary(kv => kv.Key.Substring(_prefix.Length), kv => kv.Value);

            Assert.Contains("\"appId\":\"a\"", keys["/apps/a"], StringComparison.Ordinal);
            Assert.StartsWith("a|", keys[$"/ports/machine%3A{TestEtcd.TestMachine}/21801"], StringComparison.Ordinal);
            Assert.StartsWith("b|", keys[$"/ports/machine%3A{TestEtcd.TestMachine}/21802"], StringComparison.Ordinal);
            Assert.Equal(2, keys.Keys.Count(k => k.StartsWith("/apps/", StringComparison.Ordinal)));
            Assert.Equal(2, keys.Keys.Count(k => k.StartsWith("/ports/", StringComparison.Ordinal)));
            Assert.Equal(2, keys.Keys.Count(k => k.StartsWith("/history/", StringComparison.Ordinal)));
            Assert.Equal(ledger.Read(NullOperationLog.Instance, default).StateId, keys["/meta/state-id"]);
            Assert.Contains("\"Allocated\":2", keys["/operators/tester%40test-host"], StringComparison.Ordinal);
            Assert.Contains("\"operator\":\"tester@test-host\"", keys.First(k => k.Key.StartsWith("/history/", StringComparison.Ordinal)).Value, StringComparison.Ordinal);

            // Removing an app removes its key and frees its claim.
            ledger.Transact((s, _) => s.Allocations.Remove("a"), NullOperationLog.Instance, default);
            keys = TestEtcd.Dump(Raw(), _prefix).ToDictionary(kv => kv.Key.Substring(_prefix.Length), kv => kv.Value);
            Assert.False(keys.ContainsKey("/apps/a"));
            Assert.False(keys.ContainsKey($"/ports/machine%3A{TestEtcd.TestMachine}/21801"));
        }

        [Fact]
        public void A_record_moved_to_another_machine_on_the_same_endpoint_takes_its_claim_there_and_a_record_without_a_host_reads_as_its_claims()
        {
            var ledger = Open();
            ledger.Transact((s, _) => Allocate(s, "a", 21801, 21809), NullOperationLog.Instance, default); // made with no host stamped
            Assert.Equal($"machine:{TestEtcd.TestMachine}", Open().Read(NullOperationLog.Instance, default).Allocations["a"].Host);

            // -Force from another machine keeps the endpoint text (a local socket's is the same everywhere) and stamps that machine.
            ledger.Transact((s, _) => s.Allocations["a"].Host = "machine:other-machine-0004", NullOperationLog.Instance, default);
            var keys = TestEtcd.Dump(Raw(), _prefix).ToDictionary(kv => kv.Key.Substring(_prefix.Length), kv => kv.Value);
            Assert.StartsWith("a|", keys["/ports/machine%3Aother-machine-0004/21801"], StringComparison.Ordinal);
            Assert.False(keys.ContainsKey($"/ports/machine%3A{TestEtcd.TestMachine}/21801"), "the claim stayed on the machine the record left");
            var moved = Open().Read(NullOperationLog.Instance, default).Allocations["a"];
            Assert.Equal("machine:other-machine-0004", moved.Host);
            Assert.NotNull(moved.ClaimRevision); // it holds the claim under its new host
        }

        [Fact]
        public void A_port_claimed_between_read_and_commit_fails_the_claim_and_the_rerun_takes_the_next_port()
        {
            var ledger = Open();
            var other = Open(TestEtcd.Options("other@elsewhere"));
            ledger.Transact((s, _) => Allocate(s, "seed", 21819, 21819), NullOperationLog.Instance, default); // the prefix exists: only the claim can conflict
            var before = ledger.LockCycles;
            var runs = 0;
            var port = ledger.Transact((s, _) =>
            {
                if (++runs == 1)
                {
                    // Another operator claims the very port this run is about to choose, before this run commits.
                    other.Transact((o, _) => Allocate(o, "theirs", 21810, 21819), NullOperationLog.Instance, default);
                }
                return Allocate(s, "mine", 21810, 21819);
            }, NullOperationLog.Instance, default);

            Assert.Equal(2, runs);
            Assert.Equal(21811, port);
            Assert.Equal(before + 2, ledger.LockCycles);
            var state = Open().Read(NullOperationLog.Instance, default);
            Assert.Equal(21810, state.Allocations["theirs"].Port);
            Assert.Equal(21811, state.Allocations["mine"].Port);
            Assert.Equal(3, state.Counters["Allocated"]); // the sum of two operators' counter keys
        }

        [Fact]
        public void A_claim_on_an_existing_port_key_never_lands()
        {
            // A port key that exists (here written straight into etcd, as a claim of a commit this ledger never read)
            // makes the claim's create-revision compare fail: the commit does not land.
            var ledger = Open();
            var raw = Raw();
            var key = ledger.Keys.Port("machine:" + TestEtcd.TestMachine, 21820);
            var runs = 0;
            var port = ledger.Transact((s, _) =>
            {
                if (++runs == 1)
                {
                    raw.Retrying((c, d, t) => c.Put(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8("ghost|x") }, null, d, t), raw.NewDeadline(), default);
                }
                return Allocate(s, "mine", 21820, 21829);
            }, NullOperationLog.Instance, default);
            Assert.Equal(2, runs);
            // The re-run saw the key (an orphan claim: no app holds it) and took it over with a compare on its revision.
            Assert.Equal(21820, port);
            Assert.StartsWith("mine|", TestEtcd.Dump(raw, _prefix).Single(kv => kv.Key == key).Value, StringComparison.Ordinal);
        }

        [Fact]
        public void A_sample_for_an_app_another_operator_removed_meanwhile_never_lands()
        {
            // The reaper's interleaving: it read the app, another operator removes it (Remove-DyadPortAllocation takes no
            // app lock), then the reaper's sample commits. Without a compare on the app's key it would land, for good.
            var ledger = Open();
            ledger.Transact((s, _) => Allocate(s, "sampled", 21801, 21809), NullOperationLog.Instance, default);
            var other = Open(TestEtcd.Options("remover@elsewhere"));
            var runs = 0;
            ledger.Transact((s, _) =>
            {
                if (++runs == 1) other.Transact((o, _) => { o.Allocations.Remove("sampled"); return 0; }, NullOperationLog.Instance, default);
                if (s.Allocations.ContainsKey("sampled")) s.Activity["sampled"] = new ActivitySample { At = DateTimeOffset.UtcNow, Preview = "c1", Signal = ActivitySample.AcceptedSignal, Value = "1" };
                return 0;
            }, NullOperationLog.Instance, default);
            Assert.Equal(2, runs); // the first commit's compare on the app failed; the second saw it gone and wrote no sample
            Assert.DoesNotContain(TestEtcd.Dump(Raw(), _prefix), kv => kv.Key.Contains("/activity/", StringComparison.Ordinal));
            Assert.Empty(Open().Read(NullOperationLog.Instance, default).Activity);
        }

        [Fact]
        public void An_operator_value_with_null_lists_is_read_as_an_operator_with_none_and_commits_go_on()
        {
            // Another operator's key as a tool of its own might leave it: valid JSON, its counters and recent commits null.
            var ledger = Open();
            ledger.Transact((s, _) => Allocate(s, "seed", 21801, 21809), NullOperationLog.Instance, default);
            var raw = Raw();
            var key = ledger.Keys.Operator("hand-written@elsewhere");
            raw.Retrying((c, d, t) => c.Put(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8("{\"counters\":null,\"recent\":null}") }, null, d, t), raw.NewDeadline(), default);

            Assert.NotNull(ledger.Peek()); // never throws, and reads the prefix
            var port = ledger.Transact((s, _) => Allocate(s, "after", 21801, 21809), NullOperationLog.Instance, default);
            Assert.Equal(21802, port);
            var state = Open().Read(NullOperationLog.Instance, default);
            Assert.Equal(new[] { "after", "seed" }, state.Allocations.Keys.OrderBy(k => k, StringComparer.Ordinal));
            Assert.Equal(2, state.Counters["Allocated"]);
            Assert.Equal("{\"counters\":null,\"recent\":null}", TestEtcd.Dump(raw, _prefix).Single(kv => kv.Key == key).Value); // another operator's key: left as it was
        }

        [Fact]
        public void Operators_on_separate_connections_at_once_never_get_one_port_twice()
        {
            const int operators = 6, each = 8;
            Parallel.For(0, operators, new ParallelOptions { MaxDegreeOfParallelism = operators }, w =>
            {
                var ledger = Open(TestEtcd.Options($"op{w}@host{w % 2}"));
                for (var i = 0; i < each; i++) ledger.Transact((s, _) => Allocate(s, $"w{w}-{i}", 21830, 21899), NullOperationLog.Instance, default);
            });
            var state = Open().Read(NullOperationLog.Instance, default);
            Assert.Equal(operators * each, state.Allocations.Count);
            Assert.Equal(operators * each, state.Allocations.Values.Select(r => r.Port).Distinct().Count());
            Assert.Equal(operators * each, state.Counters["Allocated"]);
            Assert.Equal(operators * each, TestEtcd.Dump(Raw(), _prefix).Count(kv => kv.Key.StartsWith(_prefix + "/ports/", StringComparison.Ordinal)));
            Assert.Equal(operators * each, Open().History(NullOperationLog.Instance, default).Count);
        }

        /// <summary>
        /// Four operators, each on its own connection (as four processes would be), 25 allocations each from one range:
        /// 100 distinct ports. Separate processes are the Pester test's (the module's cmdlets in child pwsh processes).
        /// </summary>
        [Fact]
        public void Four_operators_with_their_own_connections_times_25_get_100_distinct_ports()
        {
            const int operators = 4, each = 25;
            Parallel.For(0, operators, new ParallelOptions { MaxDegreeOfParallelism = operators }, w =>
            {
                var ledger = Open(TestEtcd.Options($"op{w}@machine{w}"));
                for (var i = 0; i < each; i++) ledger.Transact((s, _) => Allocate(s, $"p{w}-{i}", 26600, 26799), NullOperationLog.Instance, default);
            });
            var state = Open().Read(NullOperationLog.Instance, default);
            Assert.Equal(operators * each, state.Allocations.Count);
            Assert.Equal(operators * each, state.Allocations.Values.Select(r => r.Port).Distinct().Count());
            Assert.Equal(operators * each, state.Counters["Allocated"]);
            Assert.Equal(operators * each, Open().History(NullOperationLog.Instance, default).Count);
        }

        /// <summary>
        /// The key where one app's record goes holds another tool's value (JSON of another shape, or no JSON at all):
        /// that app alone is refused, with an error of its own that names the key, and the key is left as it is; every
        /// other app goes on. Before, the first was StateStoreBusy after every round failed its compare, and the second
        /// StateFileCorrupt for every command on the prefix.
        /// </summary>
        [Theory]
        [InlineData("{\"owner\":\"another tool\"}")]
        [InlineData("not JSON at all")]
        public void An_app_key_with_another_tools_value_refuses_that_app_alone_and_is_left_as_it_is(string value)
        {
            var raw = Raw();
            var key = _prefix + "/apps/foreign";
            raw.Retrying((c, d, t) => c.Put(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) }, null, d, t), raw.NewDeadline(), default);
            var ledger = Open();

            var e = Assert.Throws<DyadPortsException>(() => ledger.Transact((s, _) => Allocate(s, "foreign", 21801, 21809), NullOperationLog.Instance, default));

            Assert.Equal(ErrorIds.StateRecordForeign, e.ErrorId);
            Assert.False(e.IsTerminating);
            Assert.Equal(FailureCategory.InvalidData, e.Category);
            Assert.Equal(key, e.Target);
            Assert.Equal(21801, ledger.Transact((s, _) => Allocate(s, "other", 21801, 21809), NullOperationLog.Instance, default));
            Assert.Equal(new[] { "other" }, Open().Read(NullOperationLog.Instance, default).Allocations.Keys);
            Assert.Equal(value, TestEtcd.Dump(raw, _prefix).Single(kv => kv.Key == key).Value);
        }

        /// <summary>
        /// A record of DyadPorts' own shape written by hand under its id unescaped (P/apps/odd id, where DyadPorts writes
        /// P/apps/odd%20id) is read and holds its port, and a release deletes it at the key it was read from. Before, the
        /// delete compared the escaped key, which does not exist, in every round, and ended StateStoreBusy.
        /// </summary>
        [Fact]
        public void A_record_written_by_hand_under_an_unescaped_key_is_released_at_that_key()
        {
            var raw = Raw();
            Assert.Equal(21811, Open().Transact((s, _) => Allocate(s, "odd-src", 21811, 21819), NullOperationLog.Instance, default));
            var copied = TestEtcd.Dump(raw, _prefix).Single(kv => kv.Key == _prefix + "/apps/odd-src").Value.Replace("\"odd-src\"", "\"odd id\"", StringComparison.Ordinal);
            Open().Transact((s, _) => s.Allocations.Remove("odd-src"), NullOperationLog.Instance, default);
            var key = _prefix + "/apps/odd id";
            raw.Retrying((c, d, t) => c.Put(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(copied) }, null, d, t), raw.NewDeadline(), default);

            Assert.Equal(21811, Open().Read(NullOperationLog.Instance, default).Allocations["odd id"].Port);
            Assert.Equal(21812, Open().Transact((s, _) => Allocate(s, "next", 21811, 21819), NullOperationLog.Instance, default));
            Assert.True(Open().Transact((s, _) => s.Allocations.Remove("odd id"), NullOperationLog.Instance, default));

            Assert.DoesNotContain(TestEtcd.Dump(raw, _prefix), kv => kv.Key == key);
            Assert.Equal(new[] { "next" }, Open().Read(NullOperationLog.Instance, default).Allocations.Keys);
        }

        /// <summary>
        /// A record of DyadPorts' own shape that this version cannot read (an engine it does not know, as a newer DyadPorts
        /// could write) is not another tool's value: hiding it would let another app take its port. The read ends with a
        /// terminating StateFileCorrupt, as before, and nothing is written.
        /// </summary>
        [Fact]
        public void An_app_record_this_version_cannot_read_is_StateFileCorrupt_and_hides_nothing()
        {
            var raw = Raw();
            var key = _prefix + "/apps/newer";
            const string value = "{\"host\":\"machine:test-machine-0001\",\"record\":{\"appId\":\"newer\",\"port\":21801,\"engine\":\"Kubernetes\"}}";
            raw.Retrying((c, d, t) => c.Put(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) }, null, d, t), raw.NewDeadline(), default);

            var e = Assert.Throws<DyadPortsException>(() => Open().Transact((s, _) => Allocate(s, "other", 21801, 21809), NullOperationLog.Instance, default));

            Assert.Equal(ErrorIds.StateFileCorrupt, e.ErrorId);
            Assert.True(e.IsTerminating);
            Assert.Equal(value, TestEtcd.Dump(raw, _prefix).Single(kv => kv.Key == key).Value);
            Assert.DoesNotContain(TestEtcd.Dump(raw, _prefix), kv => kv.Key.Contains("/apps/other", StringComparison.Ordinal));
        }

        /// <summary>
        /// A long history is more than gRPC lets one answer carry (4 MB): 4,000 events of about 1.7 kB each, about
        /// 7 MB, well within the history's limit of 10,000 events. It is read whole, in commit order, without a warning.
        /// </summary>
        [Fact]
        public void A_history_larger_than_one_grpc_answer_is_read_whole_in_commit_order()
        {
            const int commits = 40, each = 100;
            var ledger = Open();
            var reason = new string('r', 1500);
            for (var c = 0; c < commits; c++)
            {
                var commit = c;
                ledger.Transact((s, _) =>
                {
                    for (var i = 0; i < each; i++) s.Record(new PortEvent { Kind = PortEventKind.Reused, AppId = $"h{commit}-{i}", Port = 21801, Reason = reason });
                    return 0;
                }, NullOperationLog.Instance, default);
            }

            var log = new RecordingLog();
            var history = Open().History(log, default);

            Assert.Empty(log.Warnings);
            Assert.Equal(Enumerable.Range(0, commits).SelectMany(c => Enumerable.Range(0, each).Select(i => $"h{c}-{i}")), history.Select(e => e.AppId));
            Assert.All(history, e => Assert.Equal(reason, e.Reason));
        }

        [Fact]
        public void An_app_lock_of_a_holder_that_died_is_free_once_its_lease_expires()
        {
            var ledger = Open();
            var raw = Raw();
            // A holder killed with kill -9: its lock key under a 4 s lease that nobody keeps alive. The clock starts before
            // the grant: the lease runs from there, whatever the put after it costs on a busy machine. (With a 2 s lease, a
            // clean-clone CI run once spent 1.5 s on the grant and the put, and the lease ran out during the check that the
            // lock is still held.)
            const int ttl = 4;
            var watch = Stopwatch.StartNew();
            var lease = raw.Retrying((c, d, t) => c.LeaseGrant(new LeaseGrantRequest { TTL = ttl }, null, d, t), raw.NewDeadline(), default).ID;
            raw.Retrying((c, d, t) => c.Put(new PutRequest { Key = ByteString.CopyFromUtf8(ledger.Keys.AppLock("app")), Value = ByteString.CopyFromUtf8("dead"), Lease = lease }, null, d, t), raw.NewDeadline(), default);

            var before = watch.Elapsed;
            Assert.True(before < TimeSpan.FromSeconds(ttl - 1), $"the grant and the put took {before.TotalSeconds:0.0} s of the {ttl} s lease: the held check below would prove nothing");
            Assert.Equal(ErrorIds.PreviewStartInProgress, Assert.Throws<DyadPortsException>(() => ledger.LockApp("app", TimeSpan.FromMilliseconds(500), LockWaits.TimedOut, default)).ErrorId);
            using (ledger.LockApp("app", TimeSpan.FromSeconds(15), LockWaits.TimedOut, default))
            {
                // The real bound: the TTL, plus an election timeout if the leader changes (up to about 2 x TTL on etcd 3.4).
                Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(ttl - 0.3), TimeSpan.FromSeconds(ttl * 2 + 2)); // never before the TTL
            }
        }

        [Fact]
        public void A_held_app_lock_outlives_its_lease_ttl_while_its_holder_lives()
        {
            var ledger = Open(new EtcdOptions { Operator = "tester@test-host", MachineId = TestEtcd.TestMachine, LeaseTtl = TimeSpan.FromSeconds(2) });
            using (var held = ledger.LockApp("app", TimeSpan.FromSeconds(5), LockWaits.TimedOut, default))
            {
                Thread.Sleep(TimeSpan.FromSeconds(4.5)); // over twice the TTL: only the keep-alive holds it
                Assert.Throws<DyadPortsException>(() => Open().LockApp("app", TimeSpan.FromMilliseconds(300), LockWaits.TimedOut, default));
                Assert.Null(held.Lost);
            }
            Open().LockApp("app", TimeSpan.FromSeconds(1), LockWaits.TimedOut, default).Dispose();
        }

        /// <summary>
        /// A lock whose lease ends while it is held (revoked here; a member cut off for longer than the TTL ends it the
        /// same way) has lost its key: its holder hears it at the keep-alive's next renewal, a third of the TTL at most
        /// later. A lock held as long beside it, whose lease lives, is not lost.
        /// </summary>
        [Fact]
        public void A_held_app_lock_whose_lease_ends_says_it_is_lost()
        {
            var ledger = Open(new EtcdOptions { Operator = "tester@test-host", MachineId = TestEtcd.TestMachine, LeaseTtl = TimeSpan.FromSeconds(3) });
            using var kept = ledger.LockApp("kept", TimeSpan.FromSeconds(5), LockWaits.TimedOut, default);
            using var held = ledger.LockApp("app", TimeSpan.FromSeconds(5), LockWaits.TimedOut, default);
            Assert.Null(held.Lost);

            var raw = Raw();
            var lease = TestEtcd.Leases(raw, _prefix)["/locks/app/app"];
            raw.Retrying((c, d, t) => c.LeaseRevoke(new LeaseRevokeRequest { ID = lease }, null, d, t), raw.NewDeadline(), default);
            var heard = Stopwatch.StartNew();
            while (held.Lost == null && heard.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(50);

            Assert.NotNull(held.Lost);
            Assert.Contains($"lease {lease:x} ended", held.Lost, StringComparison.Ordinal);
            Assert.Null(kept.Lost);
            Open().LockApp("app", TimeSpan.FromSeconds(1), LockWaits.TimedOut, default).Dispose(); // the key went with the lease
        }

        /// <summary>
        /// A lock whose key is gone before its keep-alive could hear of it (its lease ended between two renewals; here the
        /// key is deleted by hand) is lost once released: the release's compare finds the key no longer this holder's.
        /// A lock released as it was taken is not lost.
        /// </summary>
        [Fact]
        public void A_held_app_lock_whose_key_is_gone_at_release_says_it_was_lost()
        {
            var ledger = Open();
            var kept = ledger.LockApp("kept", TimeSpan.FromSeconds(5), LockWaits.TimedOut, default);
            var held = ledger.LockApp("app", TimeSpan.FromSeconds(5), LockWaits.TimedOut, default);
            var raw = Raw();
            raw.Retrying((c, d, t) => c.Delete(new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(ledger.Keys.AppLock("app")) }, null, d, t), raw.NewDeadline(), default);
            Assert.Null(held.Lost); // its lease lives: nothing to hear yet

            held.Dispose();
            kept.Dispose();

            Assert.Contains("was gone or no longer this holder's", held.Lost, StringComparison.Ordinal);
            Assert.Null(kept.Lost);
        }

        [Fact]
        public void An_unreachable_cluster_is_StateStoreUnavailable_within_the_bound_naming_the_endpoints()
        {
            var options = TestEtcd.Options(timeout: TimeSpan.FromSeconds(2));
            using var ledger = new EtcdLedger(new EtcdConnection(EtcdLocation.Parse("etcd://127.0.0.1:20799/nowhere"), options), null, ownsCluster: true);
            var watch = Stopwatch.StartNew();
            var e = Assert.Throws<DyadPortsException>(() => ledger.Transact((s, _) => Allocate(s, "a", 21801, 21809), NullOperationLog.Instance, default));
            Assert.Equal(ErrorIds.StateStoreUnavailable, e.ErrorId);
            Assert.True(e.IsTerminating);
            Assert.Contains("127.0.0.1:20799", e.Message, StringComparison.Ordinal);
            Assert.InRange(watch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(4));

            watch.Restart();
            Assert.Equal(ErrorIds.StateStoreUnavailable, Assert.Throws<DyadPortsException>(() => ledger.Read(NullOperationLog.Instance, default)).ErrorId);
            Assert.Null(ledger.Peek());
            Assert.Empty(ledger.History(NullOperationLog.Instance, default));
            Assert.InRange(watch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        }

        [Fact]
        public void A_state_that_changes_under_every_round_is_StateStoreBusy_and_nothing_of_the_command_is_written()
        {
            // Another process of the same operator commits inside each of this command's rounds: it rewrites the operator's
            // key (its recent commits), which each commit guards, so every compare fails until the rounds run out.
            var ledger = Open(TestEtcd.Options(timeout: TimeSpan.FromSeconds(60)));
            var other = Open();
            var rounds = 0;
            var e = Assert.Throws<DyadPortsException>(() => ledger.Transact((s, _) =>
            {
                var n = ++rounds;
                other.Transact((o, __) => { o.Allocations["noise"] = Record("noise", 21820 + n % 2); return 0; }, NullOperationLog.Instance, default);
                return Allocate(s, "loser", 21810, 21819);
            }, NullOperationLog.Instance, default));
            Assert.Equal((ErrorIds.StateStoreBusy, FailureCategory.ResourceBusy, true), (e.ErrorId, e.Category, e.IsTerminating));
            Assert.True(rounds > 1, $"{rounds} round(s)");
            Assert.Contains($"{rounds} times in a row", e.Message, StringComparison.Ordinal);
            Assert.False(Open().Read(NullOperationLog.Instance, default).Allocations.ContainsKey("loser"));
        }

        [Fact]
        public void The_default_bound_is_ten_seconds()
        {
            using var ledger = new EtcdLedger(new EtcdConnection(EtcdLocation.Parse("etcd://127.0.0.1:20799"), TestEtcd.Options()), null, ownsCluster: true);
            var watch = Stopwatch.StartNew();
            Assert.Equal(ErrorIds.StateStoreUnavailable, Assert.Throws<DyadPortsException>(() => ledger.Read(NullOperationLog.Instance, default)).ErrorId);
            Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(12));
        }
    }
}
