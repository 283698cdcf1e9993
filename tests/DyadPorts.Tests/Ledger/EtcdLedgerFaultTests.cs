using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Runtime.Versioning;
using System.Threading;
using System.Threading.Tasks;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.State;
using DyadPorts.Fleet;
using DyadPorts.Tests.Fleet;
using DyadPorts.Tests.Support;
using Etcdserverpb;
using Google.Protobuf;
using Xunit;
using Xunit.Abstractions;

namespace DyadPorts.Tests.Ledger
{
    /// <summary>Private etcd clusters are started one test at a time: their timings mean something only on an unloaded machine.</summary>
    [CollectionDefinition(Name, DisableParallelization = true)]
    public sealed class EtcdFaultCollection
    {
        public const string Name = "etcd faults";
    }

    /// <summary>
    /// <see cref="EtcdLedger"/> against real failures of a private 3-member cluster (<see cref="EtcdCluster"/>): the
    /// leader killed mid-run, quorum lost, an answer lost after the commit applied (<see cref="CuttingProxy"/>), and an
    /// app-lock holder that died. Ports 20600-20679, each test its own. Every cluster is killed by pid and its data
    /// removed when its test ends.
    /// </summary>
    [UnsupportedOSPlatform("windows")]
    [Collection(EtcdFaultCollection.Name)]
    public sealed class EtcdLedgerFaultTests : IDisposable
    {
        private readonly ITestOutputHelper _output;
        private readonly string _prefix = TestEtcd.NewPrefix();
        private readonly List<IDisposable> _opened = new List<IDisposable>();

        public EtcdLedgerFaultTests(ITestOutputHelper output) => _output = output;

        public void Dispose()
        {
            lock (_opened)
            {
                for (var i = _opened.Count - 1; i >= 0; i--) _opened[i].Dispose();
            }
        }

        private T Own<T>(T disposable) where T : IDisposable
        {
            lock (_opened) _opened.Add(disposable);
            return disposable;
        }

        private EtcdLedger Open(EtcdCluster cluster, string operatorName = "tester@test-host", TimeSpan? timeout = null) =>
            Own(new EtcdLedger(TestEtcd.Connect(cluster, _prefix, TestEtcd.Options(operatorName, timeout)), null, ownsCluster: true));

        private static AllocationRecord Record(string appId, int port) =>
            new AllocationRecord { AppId = appId, Port = port, Engine = EngineKind.Process, AllocatedAt = DateTimeOffset.UtcNow };

        private static int Allocate(StateDocument state, string appId, int first, int last)
        {
            var port = Enumerable.Range(first, last - first + 1).First(p => state.Allocations.Values.All(r => r.Port != p));
            state.Allocations[appId] = Record(appId, port);
            state.Record(new PortEvent { Kind = PortEventKind.Allocated, AppId = appId, Port = port });
            return port;
        }


        [UnixFact]
        public void The_leader_killed_mid_run_costs_two_operators_nothing_no_port_twice_in_bounded_time()
        {
            var cluster = Own(EtcdCluster.Start(3, 20600));
            var leader = cluster.WaitForLeader(TimeSpan.FromSeconds(10));
            var ledgers = new[] { Open(cluster, "a@machine-a"), Open(cluster, "b@machine-b") };
            const int each = 20;
            var slowest = new long[2];
            var killed = new ManualResetEventSlim();
            var halfway = new CountdownEvent(2);

            var clock = Stopwatch.StartNew();
            var workers = Enumerable.Range(0, 2).Select(w => Task.Run(() =>
            {
                for (var i = 0; i < each; i++)
                {
                    if (i == each / 2)
                    {
                        halfway.Signal();
                        killed.Wait(TimeSpan.FromSeconds(20)); // the next commits meet a dead leader and an election
                    }
                    var call = Stopwatch.StartNew();
                    ledgers[w].Transact((s, _) => Allocate(s, $"w{w}-{i}", 26000, 26099), NullOperationLog.Instance, default);
                    slowest[w] = Math.Max(slowest[w], call.ElapsedMilliseconds);
                }
            })).ToArray();
            Assert.True(halfway.Wait(TimeSpan.FromSeconds(30)), "the operators did not get halfway");
            cluster.Kill(leader);
            killed.Set();
            Task.WaitAll(workers);
            clock.Stop();
            _output.WriteLine($"killed m{leader}; {2 * each} transactions in {clock.Elapsed.TotalSeconds:0.0} s; slowest call {slowest.Max()} ms");

            var state = Open(cluster).Read(NullOperationLog.Instance, default);
            Assert.Equal(2 * each, state.Allocations.Count);
            Assert.Equal(2 * each, state.Allocations.Values.Select(r => r.Port).Distinct().Count());
            Assert.Equal(2 * each, state.Counters["Allocated"]); // no transaction counted twice (a lost answer retried)
            Assert.Equal(2 * each, Open(cluster).History(NullOperationLog.Instance, default).Count);
            Assert.True(slowest.Max() < EtcdOptions.DefaultTimeout.TotalMilliseconds, $"a transaction took {slowest.Max()} ms across the leader change");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"{2 * each} transactions took {clock.Elapsed.TotalSeconds:0.0} s");
        }

        [UnixFact]
        public void Quorum_lost_is_StateStoreUnavailable_within_the_bound_naming_the_endpoints_nothing_written_and_all_back_with_quorum()
        {
            var bound = TimeSpan.FromSeconds(3);
            var cluster = Own(EtcdCluster.Start(3, 20610));
            var ledger = Open(cluster, timeout: bound);
            ledger.Transact((s, _) => Allocate(s, "before", 26100, 26199), NullOperationLog.Instance, default);

            var survivor = cluster.WaitForLeader(TimeSpan.FromSeconds(10));
            foreach (var i in Enumerable.Range(0, 3).Where(i => i != survivor)) cluster.Kill(i); // the leader alone: it steps down
            var clock = Stopwatch.StartNew();
            var e = Assert.Throws<DyadPortsException>(() => ledger.Transact((s, _) => Allocate(s, "lost", 26100, 26199), NullOperationLog.Instance, default));
            clock.Stop();
            _output.WriteLine($"{clock.Elapsed.TotalSeconds:0.00} s: {e.Message}");

            Assert.Equal(ErrorIds.StateStoreUnavailable, e.ErrorId);
            Assert.True(e.IsTerminating);
            foreach (var endpoint in cluster.Endpoints) Assert.Contains(endpoint, e.Message, StringComparison.Ordinal);
            Assert.True(clock.Elapsed < bound + TimeSpan.FromSeconds(1.5), $"it failed after {clock.Elapsed.TotalSeconds:0.00} s, the bound being {bound.TotalSeconds} s");

            foreach (var i in Enumerable.Range(0, 3).Where(i => i != survivor)) cluster.Restart(i);
            cluster.WaitHealthy(TimeSpan.FromSeconds(30));
            var fresh = Open(cluster);
            var state = fresh.Read(NullOperationLog.Instance, default);
            Assert.Equal(new[] { "before" }, state.Allocations.Keys);
            Assert.Equal(1, state.Counters["Allocated"]);
            Assert.Single(fresh.History(NullOperationLog.Instance, default));
            using (var raw = TestEtcd.Connect(cluster, _prefix))
            {
                var keys = TestEtcd.Dump(raw, _prefix).Select(kv => kv.Key).ToList();
                Assert.DoesNotContain(keys, k => k.Contains("lost", StringComparison.Ordinal));
                Assert.Single(keys, k => k.StartsWith(_prefix + "/ports/", StringComparison.Ordinal));
            }

            // Quorum is back: the same ledger works again.
            Assert.Equal(26101, ledger.Transact((s, _) => Allocate(s, "after", 26100, 26199), NullOperationLog.Instance, default));
        }

        [UnixFact]
        public void A_commit_whose_answer_is_lost_after_it_applied_counts_once_read_back_by_its_nonce()
        {
            var cluster = Own(EtcdCluster.Start(3, 20620));
            var proxy = Own(new CuttingProxy(20626, 20620)); // in front of m0
            var location = EtcdLocation.Parse($"etcd://{proxy.Endpoint},{cluster.Endpoints[1]},{cluster.Endpoints[2]}{_prefix}");
            var ledger = Own(new EtcdLedger(new EtcdConnection(location, TestEtcd.Options()), null, ownsCluster: true));
            var log = new RecordingLog();
            var run = Guid.NewGuid().ToString("N")[..8];

            // Each transaction adds one app, one event and 1 to a counter; gRPC spreads the calls over the three
            // endpoints, so some commits go through the proxy, which loses the answer of the first that does.
            var calls = 0;
            while (proxy.Cuts == 0 && calls < 40)
            {
                var app = $"amb-{run}-{calls}";
                proxy.Arm(app);
                ledger.Transact((s, _) =>
                {
                    Allocate(s, app, 26200, 26299);
                    s.Record(new PortEvent { Kind = PortEventKind.Released, AppId = app, Port = 1 });
                    return 0;
                }, log, default);
                calls++;
            }
            proxy.Disarm();
            _output.WriteLine($"{calls} calls, {proxy.Cuts} answer(s) lost; the ledger said:\n{string.Join("\n", log.Verbose)}");
            Assert.Equal(1, proxy.Cuts);

            var state = Open(cluster).Read(NullOperationLog.Instance, default);
            Assert.Equal(calls, state.Allocations.Count);
            Assert.Equal(calls, state.Allocations.Values.Select(r => r.Port).Distinct().Count());
            Assert.Equal(calls, state.Counters["Allocated"]);
            Assert.Equal(calls, state.Counters["Released"]);
            Assert.Equal(2 * calls, Open(cluster).History(NullOperationLog.Instance, default).Count);
        }

        [UnixFact]
        public void A_commit_that_applied_but_timed_out_counts_once_read_back_after_the_bound()
        {
            // The only way to the member is a proxy that forwards the commit and then stays silent past the client's
            // deadline: etcd applies it, the client hears nothing and times out (DeadlineExceeded), not a reset.
            var cluster = Own(EtcdCluster.Start(1, 20670));
            var proxy = Own(new CuttingProxy(20676, 20670));
            var timeout = TimeSpan.FromSeconds(3);
            var location = EtcdLocation.Parse($"etcd://{proxy.Endpoint}{_prefix}");
            var ledger = Own(new EtcdLedger(new EtcdConnection(location, TestEtcd.Options(timeout: timeout)), null, ownsCluster: true));
            ledger.Transact((s, _) => Allocate(s, "first", 26300, 26309), NullOperationLog.Instance, default); // the prefix exists

            var log = new RecordingLog();
            proxy.Arm("timed-out", silentFor: timeout + TimeSpan.FromSeconds(1));
            var port = ledger.Transact((s, _) => Allocate(s, "timed-out", 26300, 26309), log, default);
            _output.WriteLine(string.Join("\n", log.Verbose));

            Assert.Equal(1, proxy.Cuts);
            Assert.Equal(26301, port);
            Assert.Contains(log.Verbose, v => v.Contains("had landed: it counts, once", StringComparison.Ordinal));
            var state = Open(cluster).Read(NullOperationLog.Instance, default);
            Assert.Equal(new[] { "first", "timed-out" }, state.Allocations.Keys.OrderBy(k => k, StringComparer.Ordinal));
            Assert.Equal(2, state.Counters["Allocated"]);
            Assert.Equal(2, Open(cluster).History(NullOperationLog.Instance, default).Count);
        }

        /// <summary>
        /// The bound a test can hold on etcd 3.4 with no leader change: TTL + one election timeout (1 s) + slack for the
        /// leader's expiry sweep (500 ms) and this machine. The TTL is the lower bound: the lease is never dropped early.
        /// </summary>
        [UnixFact]
        public void An_app_lock_of_an_operator_killed_mid_lock_is_free_after_the_ttl_at_most_ttl_plus_election_timeout_plus_slack()
        {
            var cluster = Own(EtcdCluster.Start(3, 20630));
            var ttl = TimeSpan.FromSeconds(3);
            var (sinceAsked, waited) = HolderDiesThenWait(cluster, ttl, killLeaderAfter: null);
            _output.WriteLine($"the lock was free {waited.TotalSeconds:0.00} s after its holder died, {sinceAsked.TotalSeconds:0.00} s after it asked for its lease (TTL {ttl.TotalSeconds} s)");
            Assert.True(sinceAsked >= ttl - TimeSpan.FromMilliseconds(300), $"the lease was dropped {sinceAsked.TotalSeconds:0.00} s after it was asked for, before its TTL");
            Assert.True(waited <= ttl + TimeSpan.FromSeconds(1) + TimeSpan.FromSeconds(1.5), $"the lock was free only {waited.TotalSeconds:0.00} s after its holder died");
        }

        /// <summary>
        /// With a leader change while the dead holder's lease runs, etcd 3.4 restarts the lease at its full TTL plus an
        /// election timeout on the new leader (lease checkpointing is off by default). A leader lost just before the
        /// expiry makes the worst case: TTL + an election (about one election timeout) + election timeout + TTL, so
        /// 2 x TTL + 2 x election timeout (1 s each here) + slack. Seen here: about 8.6 s for a 3 s TTL, the leader killed 1.5 s in.
        /// </summary>
        [UnixFact]
        public void After_a_leader_change_a_dead_holders_app_lock_is_free_within_two_ttl_plus_two_election_timeouts_plus_slack()
        {
            var cluster = Own(EtcdCluster.Start(3, 20640));
            var ttl = TimeSpan.FromSeconds(3);
            var (sinceAsked, waited) = HolderDiesThenWait(cluster, ttl, killLeaderAfter: TimeSpan.FromSeconds(1.5));
            _output.WriteLine($"with the leader killed 1.5 s in, the lock was free {waited.TotalSeconds:0.00} s after its holder died, {sinceAsked.TotalSeconds:0.00} s after it asked for its lease (TTL {ttl.TotalSeconds} s)");
            Assert.True(sinceAsked >= ttl - TimeSpan.FromMilliseconds(300), $"the lease was dropped {sinceAsked.TotalSeconds:0.00} s after it was asked for, before its TTL");
            Assert.True(waited <= 2 * ttl + TimeSpan.FromSeconds(2) + TimeSpan.FromSeconds(2.5), $"the lock was free only {waited.TotalSeconds:0.00} s after its holder died");
            // The TTL is only a lower bound: the leader change made the dead holder's lock outlive it by far.
            Assert.True(sinceAsked > ttl + TimeSpan.FromSeconds(1.5), $"the lease did not outlive its TTL across the leader change ({sinceAsked.TotalSeconds:0.00} s after it was asked for): lease checkpointing on? Then docs/FLEET.md's bound is too loose.");
        }

        /// <summary>
        /// An operator that took an app lock the way <see cref="EtcdAppLock"/> does (a key created if absent, under a
        /// lease it kept alive) and then died: its connection gone, nothing revoked, nothing deleted. Returns how long
        /// after it asked for its lease (the lower bound's reference: the lease cannot expire before it was granted) and
        /// after its last keep-alive came back (the upper bound's: on a loaded machine the answer can come back late)
        /// another operator's <see cref="EtcdLedger.LockApp"/> got the lock.
        /// </summary>
        private (TimeSpan SinceAsked, TimeSpan Waited) HolderDiesThenWait(EtcdCluster cluster, TimeSpan ttl, TimeSpan? killLeaderAfter)
        {
            var waiter = Open(cluster, "waiter@machine-w");
            var key = waiter.Keys.AppLock("app");
            var dead = TestEtcd.Connect(cluster, _prefix);
            var asked = Stopwatch.StartNew();
            var lease = dead.Retrying((c, d, t) => c.LeaseGrant(new LeaseGrantRequest { TTL = (long)ttl.TotalSeconds }, null, d, t), dead.NewDeadline(), default).ID;
            var claim = new TxnRequest();
            claim.Compare.Add(new Compare { Key = ByteString.CopyFromUtf8(key), Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 });
            claim.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8("dead-holder"), Lease = lease } });
            var died = Stopwatch.StartNew(); // the grant was its last keep-alive
            Assert.True(dead.Retrying((c, d, t) => c.Transaction(claim, null, d, t), dead.NewDeadline(), default).Succeeded);
            dead.Dispose(); // kill -9: no keep-alive any more, nothing revoked or deleted

            Assert.Throws<DyadPortsException>(() => waiter.LockApp("app", TimeSpan.FromMilliseconds(300), LockWaits.TimedOut, default));
            Task killer = Task.CompletedTask;
            if (killLeaderAfter.HasValue)
            {
                var leader = cluster.WaitForLeader(TimeSpan.FromSeconds(5));
                killer = Task.Run(() =>
                {
                    Thread.Sleep(killLeaderAfter.Value - died.Elapsed > TimeSpan.Zero ? killLeaderAfter.Value - died.Elapsed : TimeSpan.Zero);
                    cluster.Kill(leader);
                });
            }
            using (waiter.LockApp("app", TimeSpan.FromSeconds(30), LockWaits.TimedOut, default))
            {
                var free = (asked.Elapsed, died.Elapsed);
                killer.Wait();
                return free;
            }
        }

        /// <summary>
        /// A single-member private cluster with auth on and simple tokens that expire after 2 s unused
        /// (--auth-token=simple --auth-token-ttl=2, etcd 3.4): a ledger used again after its token expired still works.
        /// </summary>
        [UnixFact]
        public void The_auth_token_is_renewed_a_ledger_used_after_the_token_ttl_still_works()
        {
            var cluster = Own(EtcdCluster.Start(1, 20650, new[] { "--auth-token=simple", "--auth-token-ttl=2" }));
            var rootPassword = Guid.NewGuid().ToString("N");
            var dyadPassword = Guid.NewGuid().ToString("N");
            // A private, throwaway cluster: its passwords may go in etcdctl's arguments; DyadPorts reads its own from a file.
            foreach (var command in new[]
            {
                new[] { "user", "add", "root:" + rootPassword }, new[] { "user", "add", "dyad:" + dyadPassword },
                new[] { "role", "add", "dyad" }, new[] { "role", "grant-permission", "dyad", "readwrite", "/dyadports/", "--prefix=true" },
                new[] { "user", "grant-role", "dyad", "dyad" }, new[] { "user", "grant-role", "root", "root" }, new[] { "auth", "enable" },
            })
            {
                Etcdctl.Run(cluster.Endpoints, command).EnsureSuccess();
            }
            var passwordFile = System.IO.Path.Combine(cluster.Dir, "dyad.password");
            System.IO.File.WriteAllText(passwordFile, dyadPassword + "\n");

            var prefix = "/dyadports" + _prefix;
            var options = TestEtcd.Options(timeout: TimeSpan.FromSeconds(5));
            options.User = "dyad";
            options.PasswordFile = passwordFile;
            var ledger = Own(new EtcdLedger(TestEtcd.Connect(cluster, prefix, options), null, ownsCluster: true));
            ledger.Transact((s, _) => Allocate(s, "first", 26300, 26399), NullOperationLog.Instance, default);

            Thread.Sleep(TimeSpan.FromSeconds(4.5)); // the token is 2 s unused: the member has dropped it
            Assert.Equal(26301, ledger.Transact((s, _) => Allocate(s, "second", 26300, 26399), NullOperationLog.Instance, default));
            Assert.Equal(2, ledger.Read(NullOperationLog.Instance, default).Allocations.Count);
        }

        /// <summary>A single-member private cluster with a 1 MiB quota, filled until its NOSPACE alarm: the ledger says so, and what to do.</summary>
        [UnixFact]
        public void A_cluster_out_of_space_is_StateStoreFull_saying_what_to_do()
        {
            var cluster = Own(EtcdCluster.Start(1, 20660, new[] { "--quota-backend-bytes=1048576" }));
            var ledger = Open(cluster);
            ledger.Transact((s, _) => Allocate(s, "before", 26400, 26499), NullOperationLog.Instance, default);

            using var raw = TestEtcd.Connect(cluster, _prefix);
            var filler = ByteString.CopyFrom(new byte[100 * 1024]);
            DyadPortsException full = null;
            for (var i = 0; i < 200 && full == null; i++)
            {
                try
                {
                    raw.Retrying((c, d, t) => c.Put(new PutRequest { Key = ByteString.CopyFromUtf8($"{_prefix}/fill/{i}"), Value = filler }, null, d, t), raw.NewDeadline(), default);
                }
                catch (DyadPortsException refused)
                {
                    full = refused;
                }
            }
            Assert.NotNull(full);
            Assert.Equal(ErrorIds.StateStoreFull, full.ErrorId);

            var e = Assert.Throws<DyadPortsException>(() => ledger.Transact((s, _) => Allocate(s, "after", 26400, 26499), NullOperationLog.Instance, default));
            _output.WriteLine(e.Message);
            Assert.Equal(ErrorIds.StateStoreFull, e.ErrorId);
            Assert.True(e.IsTerminating);
            foreach (var what in new[] { "database space exceeded", "NOSPACE", "etcdctl compact", "etcdctl defrag", "etcdctl alarm disarm", "--auto-compaction-retention", "--quota-backend-bytes", cluster.Endpoints[0] })
            {
                Assert.Contains(what, e.Message, StringComparison.Ordinal);
            }
        }
    }
}
