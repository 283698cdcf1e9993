using System;
using System.Linq;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Ledger;
using DyadPorts.Core.Previews;
using DyadPorts.Fleet;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>
    /// On an etcd state, a record of another machine's local engine (a forged machine id in the record) is read-only here:
    /// Request-DyadPort, Start-DyadPreview and Remove-DyadPortAllocation refuse it with RecordOnOtherMachine naming the
    /// machine, and change nothing; -Force moves (Request) or releases (Remove) it, with a warning. Real dockerd and
    /// podman, the shared etcd cluster; ports 28400-28419.
    /// </summary>
    [Collection(EngineCollection.Name)]
    public sealed class OtherMachineFleetEngineTests : IDisposable
    {
        private const string OtherMachine = "other-machine-0003";
        private readonly EngineFixture _engines;
        private readonly PreviewScenario _scenario = new PreviewScenario("another machine's fleet preview");

        public OtherMachineFleetEngineTests(EngineFixture engines)
        {
            _engines = engines;
        }

        public void Dispose()
        {
            _scenario.Dispose();
        }

        /// <summary>The row's ledger, without recovery: what the test reads and forges.</summary>
        private IAllocationLedger Ledger => _scenario.State.Ledger((IStateRecovery)null);

        private static void Forge(PortAllocator allocator, string appId) =>
            allocator.Ledger.Transact((s, _) => s.Allocations[appId].Host = MachineIdentity.Prefix + OtherMachine, NullOperationLog.Instance, default);

        private string AppValue(string appId)
        {
            using var raw = TestEtcd.Connect(_scenario.State.Prefix);
            return TestEtcd.Dump(raw, _scenario.State.Prefix).Single(kv => kv.Key.EndsWith("/apps/" + Uri.EscapeDataString(appId), StringComparison.Ordinal)).Value;
        }

        private static void AssertRefused(DyadPortsException refused)
        {
            Assert.Equal(ErrorIds.RecordOnOtherMachine, refused.ErrorId);
            Assert.False(refused.IsTerminating);
            Assert.Contains(OtherMachine, refused.Message, StringComparison.Ordinal);
        }

        [Theory]
        [MemberData(nameof(EngineCase.Fleet), MemberType = typeof(EngineCase))]
        public void Another_machines_record_is_not_requested_started_or_removed_from_here_without_Force(string row)
        {
            var engine = _scenario.Use(row);
            var name = engine.Name;
            engine.CleanUp();
            var first = name == "docker" ? 28400 : 28410;
            var range = new PortRange(first, first + 9);
            var appId = TestRun.App("fleet-elsewhere-" + name);
            var allocator = _scenario.Allocator(engine);
            var launcher = new PreviewLauncher(allocator);
            var started = launcher.Start(_scenario.Request(appId, engine, first, first + 9), NullOperationLog.Instance, default);
            Forge(allocator, appId);
            var forged = Ledger.Read(NullOperationLog.Instance, default).Allocations[appId];
            var stored = AppValue(appId);

            // Request, Start and Remove without -Force: refused, naming the machine; nothing written, nothing stopped.
            AssertRefused(Assert.Throws<DyadPortsException>(() => allocator.Request(appId, range, false, NullOperationLog.Instance, default)));
            AssertRefused(Assert.Throws<DyadPortsException>(() => launcher.Start(_scenario.Request(appId, engine, first, first + 9), NullOperationLog.Instance, default)));
            AssertRefused(Assert.Throws<DyadPortsException>(() => allocator.Release(appId, force: false, NullOperationLog.Instance, default)));
            var after = Ledger.Read(NullOperationLog.Instance, default).Allocations[appId];
            Assert.Equal(forged.Host, after.Host);
            Assert.Equal(forged.Port, after.Port);
            Assert.Equal(forged.ContainerId, after.ContainerId);
            Assert.Equal(stored, AppValue(appId)); // not rewritten
            Assert.Equal("running", engine.Find("dyad-app-" + appId).State);
            Assert.Equal(started.Port, after.Port);

            // Request -Force moves it here, with a warning naming the machine whose preview is left alone.
            var log = new RecordingLog();
            var moved = allocator.Request(appId, range, true, log, default);
            Assert.Equal(MachineIdentity.Current.LocalHost, Ledger.Read(NullOperationLog.Instance, default).Allocations[appId].Host);
            Assert.Contains(log.Warnings, w => w.Contains(OtherMachine, StringComparison.Ordinal) && w.Contains("-Force", StringComparison.Ordinal));
            Assert.Equal(appId, moved.AppId);

            // Remove -Force releases it, with a warning; the container is left alone (Remove never touches containers).
            Forge(allocator, appId);
            log = new RecordingLog();
            var released = allocator.Release(appId, force: true, log, default);
            Assert.Equal(AllocationStatus.Released, released.Status);
            Assert.False(Ledger.Read(NullOperationLog.Instance, default).Allocations.ContainsKey(appId));
            Assert.Contains(log.Warnings, w => w.Contains(OtherMachine, StringComparison.Ordinal));
            Assert.Equal("running", engine.Find("dyad-app-" + appId).State);
        }
    }
}
