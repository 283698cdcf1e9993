using System;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.State;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>The allocator against real dockerd and real podman, through Docker.DotNet.</summary>
    [Collection(EngineCollection.Name)]
    public sealed class AllocatorEngineTests : IDisposable
    {
        private readonly TempState _temp = new TempState();

        public void Dispose()
        {
            foreach (var name in new[] { "docker", "podman" }) TestEngine.Get(name).CleanUp();
            _temp.Dispose();
        }

        private PortAllocator Allocator(TestEngine engine) => new PortAllocator(_temp.Store, engine.Engine, engine.Kind);

        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_container_on_a_published_port_is_listed_with_that_exact_binding(string name)
        {
            var engine = TestEngine.Get(name);
            engine.CleanUp();
            engine.Run("dyadtest-listed", 32150);
            var listed = engine.Engine.Snapshot(default).Containers.Single(c => c.Name == "dyadtest-listed");
            Assert.True(listed.IsRunning);
            Assert.Equal(new[] { 32150 }, listed.TcpHostPorts);
        }

        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void The_seeds_scenario_57_moves_off_56s_port_with_a_warning_and_58_gets_the_next(string name)
        {
            var engine = TestEngine.Get(name);
            engine.CleanUp();
            engine.RunManaged("56", 32100);
            // The naive service's memory: app 57 "has" 32100.
            _temp.Store.Update(s => { s.Allocations["57"] = new AllocationRecord { AppId = "57", Port = 32100, Engine = engine.Kind }; return 0; }, id => new StateDocument(), NullOperationLog.Instance, default);

            var log = new RecordingLog();
            var allocator = Allocator(engine);
            var a57 = allocator.Request("57", PortRange.Default, false, log, default);
            Assert.Equal(32101, a57.Port);
            Assert.Contains("port 32100 is held by container dyad-app-56", Assert.Single(log.Warnings));
            Assert.Equal(32102, allocator.Request("58", PortRange.Default, false, NullOperationLog.Instance, default).Port);
        }

        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void The_substring_trap_a_container_on_3210_does_not_block_32100(string name)
        {
            var engine = TestEngine.Get(name);
            engine.CleanUp();
            engine.Run("dyadtest-3210", 3210);
            var status = Allocator(engine).Test(new[] { 3210, 32100 }, NullOperationLog.Instance, default);
            Assert.False(status[0].Available);
            Assert.Equal("container dyadtest-3210", status[0].HeldBy);
            Assert.True(status[1].Available);
            Assert.Equal(32100, Allocator(engine).Request("t", new PortRange(32100, 32100), false, NullOperationLog.Instance, default).Port);
        }

        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void Created_and_exited_containers_still_hold_their_ports_and_say_so(string name)
        {
            var engine = TestEngine.Get(name);
            engine.CleanUp();
            engine.Run("dyadtest-created", 32160, start: false);
            var exited = engine.Run("dyadtest-exited", 32161);
            engine.Stop(exited);
            var status = Allocator(engine).Test(new[] { 32160, 32161 }, NullOperationLog.Instance, default);
            Assert.Equal("container dyadtest-created (created)", status[0].HeldBy);
            Assert.Equal("container dyadtest-exited (exited)", status[1].HeldBy);
            Assert.All(status, s => Assert.Equal(PortHolderSource.Container, s.Source));
            Assert.Equal(32162, Allocator(engine).Request("s", new PortRange(32160, 32170), false, NullOperationLog.Instance, default).Port);
        }

        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_loopback_only_binding_counts_as_held(string name)
        {
            var engine = TestEngine.Get(name);
            engine.CleanUp();
            engine.Run("dyadtest-loopback", 32170, hostIp: "127.0.0.1");
            var status = Allocator(engine).Test(new[] { 32170 }, NullOperationLog.Instance, default).Single();
            Assert.False(status.Available);
            Assert.Equal(PortHolderSource.Container, status.Source);
        }

        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void Host_listeners_on_v4_and_v6_are_seen_beside_the_engine(string name)
        {
            var engine = TestEngine.Get(name);
            var v4 = new TcpListener(IPAddress.Loopback, 32180);
            var v6 = new TcpListener(IPAddress.IPv6Any, 32181) { Server = { DualMode = false } };
            v4.Start();
            v6.Start();
            try
            {
                var status = Allocator(engine).Test(new[] { 32180, 32181, 32182 }, NullOperationLog.Instance, default);
                Assert.Equal(new bool?[] { false, false, true }, status.Select(s => (bool?)s.Available));
                Assert.Equal(PortHolderSource.Host, status[0].Source);
                Assert.Equal(PortHolderSource.Host, status[1].Source);
                Assert.Equal(32182, Allocator(engine).Request("h", new PortRange(32180, 32190), false, NullOperationLog.Instance, default).Port);
            }
            finally
            {
                v4.Stop();
                v6.Stop();
            }
        }

        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void The_apps_own_running_container_keeps_its_port_and_is_active(string name)
        {
            var engine = TestEngine.Get(name);
            engine.CleanUp();
            engine.RunManaged("57", 32101);
            var allocation = Allocator(engine).Request("57", PortRange.Default, false, NullOperationLog.Instance, default);
            Assert.Equal(32101, allocation.Port);
            Assert.Equal(AllocationStatus.Active, allocation.Status);
            // Even -Force never moves a live preview.
            Assert.Equal(32101, Allocator(engine).Request("57", PortRange.Default, true, NullOperationLog.Instance, default).Port);
        }

        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void Get_reconciles_active_reserved_stale_and_conflict(string name)
        {
            var engine = TestEngine.Get(name);
            engine.CleanUp();
            var allocator = Allocator(engine);
            var range = new PortRange(32120, 32130);
            engine.RunManaged("act", 32120);
            Assert.Equal(32120, allocator.Request("act", range, false, NullOperationLog.Instance, default).Port);
            Assert.Equal(32121, allocator.Request("res", range, false, NullOperationLog.Instance, default).Port);
            Assert.Equal(32122, allocator.Request("stale", range, false, NullOperationLog.Instance, default).Port);
            var staleId = engine.RunManaged("stale", 32122);
            engine.Stop(staleId);
            Assert.Equal(32123, allocator.Request("conf", range, false, NullOperationLog.Instance, default).Port);
            engine.Run("dyadtest-intruder", 32123);

            var byApp = allocator.Get(_ => true, NullOperationLog.Instance, default).ToDictionary(a => a.AppId);
            Assert.Equal(AllocationStatus.Active, byApp["act"].Status);
            Assert.Equal(AllocationStatus.Reserved, byApp["res"].Status);
            Assert.Equal(AllocationStatus.Stale, byApp["stale"].Status);
            Assert.Equal(AllocationStatus.Conflict, byApp["conf"].Status);
            Assert.Equal("container dyadtest-intruder", byApp["conf"].HeldBy);
        }

        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_corrupt_state_is_rebuilt_from_labelled_containers_and_nothing_running_is_lost(string name)
        {
            var engine = TestEngine.Get(name);
            engine.CleanUp();
            var id = engine.RunManaged("90", 32140);
            System.IO.File.WriteAllText(_temp.StatePath, "{ not json");
            var log = new RecordingLog();
            var all = Allocator(engine).Get(_ => true, log, default);
            var rebuilt = Assert.Single(all);
            Assert.Equal(("90", 32140, AllocationStatus.Active), (rebuilt.AppId, rebuilt.Port, rebuilt.Status));
            Assert.Contains(ErrorIds.StateFileCorrupt, Assert.Single(log.Warnings));
            Assert.Single(System.IO.Directory.GetFiles(_temp.Directory, "state.json.corrupt-*"));
            Assert.Equal("running", engine.Find("dyad-app-90").State);
            Assert.Equal(32141, Allocator(engine).Request("91", new PortRange(32140, 32150), false, NullOperationLog.Instance, default).Port);
        }

        [Fact]
        public void An_unreachable_engine_is_an_error_naming_the_endpoint_never_available()
        {
            var allocator = new PortAllocator(_temp.Store, new ContainerEngine("unix:///tmp/dyadports-no-such.sock", EngineKind.Docker), EngineKind.Docker);
            var e = Assert.Throws<DyadPortsException>(() => allocator.Test(new[] { 32100 }, NullOperationLog.Instance, default));
            Assert.Equal(ErrorIds.EngineUnreachable, e.ErrorId);
            Assert.Equal(FailureCategory.ConnectionError, e.Category);
            Assert.Equal("unix:///tmp/dyadports-no-such.sock", e.Target);
            Assert.Contains("unix:///tmp/dyadports-no-such.sock", e.Message);
            Assert.Null(_temp.Store.Peek());
        }
    }
}
