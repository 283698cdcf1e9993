using System;
using System.Collections.Generic;
using System.Linq;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Ledger;
using DyadPorts.Core.Engines;
using DyadPorts.Core.State;
using DyadPorts.Fleet;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>
    /// Ownership follows a copy: a preview started with one state, copied into a second state, is that state's own:
    /// Active there, and stopped by a launcher over it. Each <see cref="EngineCase"/> row as the source, into a second
    /// file state and into a second etcd prefix; ports 21890-21899.
    /// </summary>
    [Collection(EngineCollection.Name)]
    public sealed class StateCopyEngineTests : IDisposable
    {
        private readonly PreviewScenario _scenario = new PreviewScenario("copied preview");
        private readonly TempState _destination = new TempState();
        private readonly string _prefix = TestEtcd.NewPrefix();
        private IAllocationLedger _etcd;
        private IAllocationLedger _file;

        /// <summary>Each row (the source state's engine and ledger) into each kind of destination.</summary>
        public static IEnumerable<object[]> Cases => from row in EngineCase.Names from kind in new[] { EngineCase.File, EngineCase.Etcd } select new object[] { row, kind };

        public StateCopyEngineTests(EngineFixture engines)
        {
            _ = engines; // the collection's fixture: both engines, and this run's clean-up at the end
        }

        public void Dispose()
        {
            _scenario.Dispose();
            _destination.Dispose();
            if (_etcd != null)
            {
                TestEtcd.DeletePrefix(_prefix);
                ((IDisposable)_etcd).Dispose();
            }
        }

        private IAllocationLedger Destination(string into)
        {
            if (into == "etcd") _etcd ??= new EtcdLedger(TestEtcd.Connect(_prefix), null, ownsCluster: true);
            else _file ??= new FileLedger(_destination.Store, null);
            return into == "etcd" ? _etcd : _file;
        }

        private static PortAllocator Over(IAllocationLedger ledger, TestEngine engine) => new PortAllocator(ledger, new EngineSnapshots(engine.Engine, engine.Kind));

        [Theory]
        [MemberData(nameof(Cases))]
        public void A_copied_running_preview_is_the_destinations_own_active_and_stoppable(string row, string into)
        {
            var engine = _scenario.Use(row);
            engine.CleanUp();
            var first = engine.Name == "docker" ? 21890 : 21895;
            var appId = TestRun.App($"copy-{engine.Name}-{_scenario.State.Case.LedgerName}-{into}");
            var started = _scenario.Launcher(engine).Start(_scenario.Request(appId, engine, first, first + 4), NullOperationLog.Instance, default);
            Assert.Equal("copied preview", PreviewScenario.Get(started.Port));

            // Before the copy the destination has a state of its own that does not own the preview.
            var destination = Over(Destination(into), engine);
            Assert.Empty(destination.Get(id => id == appId, NullOperationLog.Instance, default));

            var conflicts = new List<DyadPortsException>();
            var result = new StateCopier(_scenario.State.Ledger((IStateRecovery)null), Destination(into)).Copy(conflicts.Add, NullOperationLog.Instance, default);
            Assert.Empty(conflicts);
            Assert.Equal(1, result.Copied);

            // With the destination state: Active (its own preview on its port), not a Conflict with a foreign container.
            var allocation = Assert.Single(destination.Get(id => id == appId, NullOperationLog.Instance, default));
            Assert.Equal(AllocationStatus.Active, allocation.Status);
            Assert.Equal(started.Port, allocation.Port);
            Assert.Equal(started.ContainerId, allocation.ContainerId);

            // A launcher over the destination stops and removes it, and releases the app.
            var stopped = new Core.Previews.PreviewLauncher(Over(Destination(into), engine)).Stop(appId, remove: true, keepAllocation: false, NullOperationLog.Instance, default);
            Assert.NotNull(stopped);
            Assert.Null(engine.Find("dyad-app-" + appId));
            Assert.False(Destination(into).Read(NullOperationLog.Instance, default).Allocations.ContainsKey(appId));
        }
    }
}
