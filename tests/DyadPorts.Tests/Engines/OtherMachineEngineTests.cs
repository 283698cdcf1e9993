using System;
using System.Linq;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Previews;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>
    /// A record of another machine's local engine (a fleet state) is Unknown and read-only here: never reconciled,
    /// stopped or reaped, even when a container of that id runs on this machine's engine. Real dockerd and podman;
    /// ports 21880-21889.
    /// </summary>
    [Collection(EngineCollection.Name)]
    public sealed class OtherMachineEngineTests : IDisposable
    {
        private const string OtherMachine = "other-machine-0002";
        private readonly PreviewScenario _scenario = new PreviewScenario("another machine's preview");

        public OtherMachineEngineTests(EngineFixture engines)
        {
            _ = engines; // the collection's fixture: both engines, and this run's clean-up at the end
        }

        public void Dispose() => _scenario.Dispose();

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void Another_machines_record_is_Unknown_and_never_stopped_or_reaped_from_here(string row)
        {
            var engine = _scenario.Use(row);
            engine.CleanUp();
            var first = engine.Name == "docker" ? 21880 : 21885;
            var appId = TestRun.App("elsewhere-" + engine.Name);
            var started = _scenario.Launcher(engine).Start(_scenario.Request(appId, engine, first, first + 4), NullOperationLog.Instance, default);
            var allocator = _scenario.Allocator(engine);
            Assert.Equal(MachineIdentity.Current.LocalHost, allocator.ReadState(NullOperationLog.Instance, default).Allocations[appId].Host); // stamped at the start

            // The record now says another machine's local engine holds the preview.
            allocator.Ledger.Transact((s, _) => s.Allocations[appId].Host = MachineIdentity.Prefix + OtherMachine, NullOperationLog.Instance, default);

            var seen = Assert.Single(allocator.Get(id => id == appId, NullOperationLog.Instance, default));
            Assert.Equal(AllocationStatus.Unknown, seen.Status);
            Assert.Equal(MachineIdentity.Prefix + OtherMachine, seen.Host);
            Assert.Contains(OtherMachine, seen.HeldBy, StringComparison.Ordinal);

            var refused = Assert.Throws<DyadPortsException>(() => _scenario.Launcher(engine).Stop(appId, remove: true, keepAllocation: false, NullOperationLog.Instance, default));
            Assert.Equal(ErrorIds.RecordOnOtherMachine, refused.ErrorId);
            Assert.False(refused.IsTerminating);
            Assert.Contains(OtherMachine, refused.Message, StringComparison.Ordinal);

            var log = new RecordingLog();
            Assert.Empty(new IdleReaper(allocator).Reap(TimeSpan.Zero, id => id == appId, (_, _) => true, remove: true, keepAllocation: false, log, default));
            Assert.Contains(log.Verbose, m => m.Contains(ErrorIds.RecordOnOtherMachine, StringComparison.Ordinal) && m.Contains(OtherMachine, StringComparison.Ordinal));

            // Nothing was touched: the container runs, the allocation stays.
            Assert.Equal("running", engine.Find("dyad-app-" + appId).State);
            Assert.Equal(started.Port, allocator.ReadState(NullOperationLog.Instance, default).Allocations[appId].Port);

            // Seen from that machine (an injected identity), it is its own: Active.
            var there = _scenario.Allocator(engine);
            there.Machine = new MachineIdentity(OtherMachine);
            Assert.Equal(AllocationStatus.Active, Assert.Single(there.Get(id => id == appId, NullOperationLog.Instance, default)).Status);
        }
    }
}
