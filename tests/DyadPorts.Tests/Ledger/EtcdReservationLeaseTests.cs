using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.State;
using DyadPorts.Fleet;
using DyadPorts.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace DyadPorts.Tests.Ledger
{
    /// <summary>
    /// A start's reservation (<see cref="AllocationRecord.Provisional"/>) lives under its writer's lease on etcd: a writer
    /// killed with kill -9 (its connection gone, nothing revoked) costs the app and its port claim only the lease's life;
    /// a reservation made plain survives its writer. The shared test cluster; ports 20700-20719 (only numbers here).
    /// </summary>
    public sealed class EtcdReservationLeaseTests : IDisposable
    {
        private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(3);
        private readonly string _prefix = TestEtcd.NewPrefix();
        private readonly List<IDisposable> _opened = new List<IDisposable>();
        private readonly ITestOutputHelper _output;

        public EtcdReservationLeaseTests(ITestOutputHelper output) => _output = output;

        public void Dispose()
        {
            TestEtcd.DeletePrefix(_prefix);
            lock (_opened) foreach (var d in _opened) d.Dispose();
        }

        private T Own<T>(T disposable) where T : IDisposable
        {
            lock (_opened) _opened.Add(disposable);
            return disposable;
        }

        private EtcdLedger Reader() => Own(new EtcdLedger(TestEtcd.Connect(_prefix), null, ownsCluster: true));

        /// <summary>A writer whose process can be "killed": disposing <paramref name="connection"/> ends its keep-alive, and nothing is revoked.</summary>
        private EtcdLedger Writer(out EtcdConnection connection)
        {
            connection = Own(TestEtcd.Connect(_prefix, new EtcdOptions { Operator = "writer@machine-w", MachineId = TestEtcd.TestMachine, LeaseTtl = Ttl }));
            return Own(new EtcdLedger(connection, null, ownsCluster: false));
        }

        private static AllocationRecord Record(string appId, int port, bool provisional) =>
            new AllocationRecord { AppId = appId, Port = port, Engine = EngineKind.Process, AllocatedAt = DateTimeOffset.UtcNow, Provisional = provisional };

        private static string PortKey(int port) => $"/ports/machine%3A{TestEtcd.TestMachine}/{port}";

        [Fact]
        public void A_reservation_of_a_writer_killed_mid_start_and_its_claim_are_gone_after_the_lease_ttl_and_the_port_is_free()
        {
            var reader = Reader();
            var raw = Own(TestEtcd.Connect(_prefix));
            var writer = Writer(out var writerConnection);
            var sinceGrant = Stopwatch.StartNew(); // before the lease is granted: it cannot end sooner than the TTL from here
            writer.Transact((s, _) =>
            {
                s.Allocations["reserved"] = Record("reserved", 20701, provisional: true);
                s.Allocations["plain"] = Record("plain", 20702, provisional: false);
                return 0;
            }, NullOperationLog.Instance, default);

            var leases = TestEtcd.Leases(raw, _prefix);
            var lease = leases["/apps/reserved"];
            Assert.NotEqual(0, lease);
            Assert.Equal(lease, leases[PortKey(20701)]);
            Assert.Equal(0, leases["/apps/plain"]);
            Assert.Equal(0, leases[PortKey(20702)]);
            Assert.True(reader.Read(NullOperationLog.Instance, default).Allocations["reserved"].Provisional);

            // Another operator rewriting the reservation (still provisional) does not take it over: it keeps the writer's lease.
            reader.Transact((s, _) => s.Allocations["reserved"].Image = "touched", NullOperationLog.Instance, default);
            Assert.Equal(lease, TestEtcd.Leases(raw, _prefix)["/apps/reserved"]);

            var died = Stopwatch.StartNew();
            writerConnection.Dispose(); // kill -9: its keep-alive stops, nothing is revoked or deleted
            while (true)
            {
                var keys = TestEtcd.Leases(raw, _prefix);
                var gone = !keys.ContainsKey("/apps/reserved") && !keys.ContainsKey(PortKey(20701));
                if (gone) break;
                Assert.True(died.Elapsed < TimeSpan.FromSeconds(20), "the reservation outlived its dead writer's lease by far");
                Thread.Sleep(50);
            }
            var sinceDeath = died.Elapsed;
            _output.WriteLine($"the reservation was gone {sinceDeath.TotalSeconds:0.00} s after its writer died, {sinceGrant.Elapsed.TotalSeconds:0.00} s after its lease was granted (TTL {Ttl.TotalSeconds} s)");
            Assert.True(sinceGrant.Elapsed >= Ttl - TimeSpan.FromMilliseconds(300), $"the lease ended before its TTL: {sinceGrant.Elapsed.TotalSeconds:0.00} s");
            // No leader change here: TTL + one election timeout (1 s) + the leader's expiry sweep and this machine (1.5 s).
            // After a leader change etcd 3.4 can stretch it to about 2 x TTL (docs/FLEET.md).
            Assert.InRange(sinceDeath, TimeSpan.Zero, Ttl + TimeSpan.FromSeconds(1) + TimeSpan.FromSeconds(1.5));

            var state = reader.Read(NullOperationLog.Instance, default);
            Assert.False(state.Allocations.ContainsKey("reserved"));
            Assert.True(state.Allocations.ContainsKey("plain")); // a plain record is not the lease's

            // The port is free: another app claims it.
            reader.Transact((s, _) => s.Allocations["next"] = Record("next", 20701, provisional: false), NullOperationLog.Instance, default);
            Assert.StartsWith("next|", TestEtcd.Dump(raw, _prefix).Single(kv => kv.Key == _prefix + PortKey(20701)).Value, StringComparison.Ordinal);
            Assert.Equal(0, TestEtcd.Leases(raw, _prefix)[PortKey(20701)]);
        }

        [Fact]
        public void A_reservation_made_plain_survives_its_writers_death_past_the_lease_ttl()
        {
            var reader = Reader();
            var raw = Own(TestEtcd.Connect(_prefix));
            var writer = Writer(out var writerConnection);
            writer.Transact((s, _) => s.Allocations["started"] = Record("started", 20711, provisional: true), NullOperationLog.Instance, default);
            Assert.NotEqual(0, TestEtcd.Leases(raw, _prefix)["/apps/started"]);

            // The start succeeded: the record becomes plain, and so do its key and its claim.
            writer.Transact((s, _) => s.Allocations["started"].Provisional = false, NullOperationLog.Instance, default);
            var leases = TestEtcd.Leases(raw, _prefix);
            Assert.Equal(0, leases["/apps/started"]);
            Assert.Equal(0, leases[PortKey(20711)]);
            Assert.DoesNotContain("provisional", TestEtcd.Dump(raw, _prefix).Single(kv => kv.Key == _prefix + "/apps/started").Value, StringComparison.Ordinal);

            writerConnection.Dispose(); // kill -9
            Thread.Sleep(Ttl + TimeSpan.FromSeconds(2.5));
            var record = reader.Read(NullOperationLog.Instance, default).Allocations["started"];
            Assert.Equal(20711, record.Port);
            Assert.False(record.Provisional);
            Assert.True(TestEtcd.Leases(raw, _prefix).ContainsKey(PortKey(20711)));
        }

        [Fact]
        public void A_disposed_writer_revokes_its_lease_so_an_unconfirmed_reservation_goes_at_once()
        {
            var raw = Own(TestEtcd.Connect(_prefix));
            var writer = new EtcdLedger(TestEtcd.Connect(_prefix, new EtcdOptions { Operator = "writer@machine-w", MachineId = TestEtcd.TestMachine, LeaseTtl = TimeSpan.FromSeconds(10) }), null, ownsCluster: true);
            writer.Transact((s, _) => s.Allocations["failed"] = Record("failed", 20715, provisional: true), NullOperationLog.Instance, default);
            Assert.True(TestEtcd.Leases(raw, _prefix).ContainsKey("/apps/failed"));
            writer.Dispose();
            var keys = TestEtcd.Leases(raw, _prefix);
            Assert.False(keys.ContainsKey("/apps/failed"));
            Assert.False(keys.ContainsKey(PortKey(20715)));
        }
    }
}
