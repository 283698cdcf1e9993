using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Ledger;
using DyadPorts.Core.Previews;
using DyadPorts.Fleet;
using DyadPorts.Tests.Support;
using Etcdserverpb;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>
    /// A start on an etcd state: its reservation lives under the operator's lease while the preview starts, and the
    /// finished start leaves a plain record (its app key and port claim under no lease); a start whose app lock is lost
    /// meanwhile says so. Real dockerd and podman, the shared etcd cluster; ports 20720-20729 and 23030-23039.
    /// </summary>
    [Collection(EngineCollection.Name)]
    public sealed class EtcdStartLeaseEngineTests : IDisposable
    {
        private readonly EngineFixture _engines;
        private readonly PreviewScenario _scenario = new PreviewScenario("leased start");
        private readonly string _prefix = TestEtcd.NewPrefix();
        private readonly EtcdLedger _ledger;
        private readonly EtcdConnection _raw;

        public EtcdStartLeaseEngineTests(EngineFixture engines)
        {
            _engines = engines;
            _ledger = new EtcdLedger(TestEtcd.Connect(_prefix), null, ownsCluster: true);
            _raw = TestEtcd.Connect(_prefix);
        }

        public void Dispose()
        {
            _scenario.Dispose();
            TestEtcd.DeletePrefix(_prefix);
            _ledger.Dispose();
            _raw.Dispose();
        }

        /// <summary>After each commit, the lease the app's key lives under (absent: not stored).</summary>
        private sealed class LeaseWatch : LedgerDecorator
        {
            private readonly Func<long?> _lease;

            public LeaseWatch(IAllocationLedger inner, Func<long?> lease) : base(inner) => _lease = lease;

            public List<long?> Seen { get; } = new List<long?>();

            public override T Transact<T>(LedgerTransaction<T> transaction, IOperationLog log, CancellationToken cancellationToken)
            {
                var result = Inner.Transact(transaction, log, cancellationToken);
                Seen.Add(_lease());
                return result;
            }
        }

        [Theory]
        [InlineData("docker")]
        [InlineData("podman")]
        public void A_finished_start_leaves_a_plain_record_its_reservation_was_leased_meanwhile(string name)
        {
            var engine = _engines.Get(name);
            engine.CleanUp();
            var first = name == "docker" ? 20720 : 20725;
            var appId = TestRun.App($"lease-{name}");
            var appKey = "/apps/" + Uri.EscapeDataString(appId);
            var watch = new LeaseWatch(_ledger, () => TestEtcd.Leases(_raw, _prefix).TryGetValue(appKey, out var lease) ? lease : null);
            var launcher = new PreviewLauncher(new PortAllocator(watch, new EngineSnapshots(engine.Engine, engine.Kind)));

            var started = launcher.Start(_scenario.Request(appId, engine, first, first + 4), NullOperationLog.Instance, default);
            Assert.Equal("leased start", PreviewScenario.Get(started.Port));

            // The reservation was under a lease (the start could have died), the finished start made it plain.
            Assert.Contains(watch.Seen, lease => lease.HasValue && lease.Value != 0);
            var leases = TestEtcd.Leases(_raw, _prefix);
            Assert.Equal(0, leases[appKey]);
            Assert.Equal(0, Assert.Single(leases, kv => kv.Key.StartsWith("/ports/", StringComparison.Ordinal) && kv.Key.EndsWith("/" + started.Port, StringComparison.Ordinal)).Value);
            var record = _ledger.Read(NullOperationLog.Instance, default).Allocations[appId];
            Assert.False(record.Provisional);
            Assert.NotNull(record.ContainerId);
        }

        /// <summary>
        /// The app's start lock loses its lease while the start runs (revoked just before the launch; a member cut off for
        /// longer than the TTL ends it the same way): the start goes on, and once it has released the lock it warns that
        /// another start or stop of the app may have run meanwhile. With the default TTL (10 s) the keep-alive has not
        /// renewed yet when the start ends: its release finds the key gone.
        /// </summary>
        [Theory]
        [InlineData("docker")]
        [InlineData("podman")]
        public void A_start_whose_app_lock_is_lost_meanwhile_warns_after_it(string name)
        {
            var engine = _engines.Get(name);
            engine.CleanUp();
            var first = name == "docker" ? 23030 : 23035;
            var appId = TestRun.App($"lost-lock-{name}");
            using var ledger = new EtcdLedger(TestEtcd.Connect(_prefix), null, ownsCluster: true);
            var lockKey = ledger.Keys.AppLock(appId).Substring(_prefix.Length);
            var hooks = new StartHooks
            {
                BeforeLaunch = _ =>
                {
                    var lease = TestEtcd.Leases(_raw, _prefix)[lockKey];
                    _raw.Retrying((c, d, t) => c.LeaseRevoke(new LeaseRevokeRequest { ID = lease }, null, d, t), _raw.NewDeadline(), default);
                },
            };
            // No process preview here: the folder for their logs is only named, never written.
            var launcher = hooks.Wrap(new PortAllocator(ledger, new EngineSnapshots(engine.Engine, engine.Kind)) { ProcessLogFolder = System.IO.Path.GetTempPath() });
            var log = new RecordingLog();

            var started = launcher.Start(_scenario.Request(appId, engine, first, first + 4), log, default);

            Assert.Equal("leased start", PreviewScenario.Get(started.Port));
            var warning = Assert.Single(log.Warnings, w => w.Contains("start lock was lost", StringComparison.Ordinal));
            Assert.StartsWith($"App {appId}: ", warning, StringComparison.Ordinal);
            Assert.Contains("lease", warning, StringComparison.Ordinal);
        }
    }
}
