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
    /// <summary>The allocator against real dockerd and real podman, through Docker.DotNet. Ports 21000-21199 (outside the default range 32100-32200, where a user's previews live); AppIds and container names carry <see cref="TestRun.Prefix"/>.</summary>
    [Collection(EngineCollection.Name)]
    public sealed class AllocatorEngineTests : IDisposable
    {
        private readonly EngineFixture _engines;
        private readonly EngineState _state = new EngineState();

        public AllocatorEngineTests(EngineFixture engines) => _engines = engines;

        public void Dispose()
        {
            try
            {
                foreach (var name in new[] { "docker", "podman" }) _engines.Get(name).CleanUp();
            }
            finally
            {
                _state.Dispose(); // its views too, even when a clean-up failed
            }
        }

        private PortAllocator Allocator(TestEngine engine) => _state.Allocator(engine);

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void A_container_on_a_published_port_is_listed_with_that_exact_binding(string row)
        {
            var engine = _state.Use(row);
            engine.CleanUp();
            engine.Run(TestRun.App("listed"), 21000);
            var listed = engine.Engine.Snapshot(default).Containers.Single(c => c.Name == TestRun.App("listed"));
            Assert.True(listed.IsRunning);
            Assert.Equal(new[] { 21000 }, listed.TcpHostPorts);
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void The_seeds_scenario_57_moves_off_56s_port_with_a_warning_and_58_gets_the_next(string row)
        {
            var engine = _state.Use(row);
            engine.CleanUp();
            var range = new PortRange(21010, 21020);
            engine.RunManaged(TestRun.App("56"), 21010);
            // The naive service's memory: app 57 "has" 21010.
            var a57Id = TestRun.App("57");
            _state.Seed(s => s.Allocations[a57Id] = new AllocationRecord { AppId = a57Id, Port = 21010, Engine = engine.Kind });

            var log = new RecordingLog();
            var allocator = Allocator(engine);
            var a57 = allocator.Request(a57Id, range, false, log, default);
            Assert.Equal(21011, a57.Port);
            Assert.Contains($"port 21010 is held by container dyad-app-{TestRun.App("56")}", Assert.Single(log.Warnings));
            Assert.Equal(21012, allocator.Request(TestRun.App("58"), range, false, NullOperationLog.Instance, default).Port);
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void The_substring_trap_a_container_on_4103_does_not_block_41030(string row)
        {
            var engine = _state.Use(row);
            engine.CleanUp();
            engine.Run(TestRun.App("4103"), 4103);
            var status = Allocator(engine).Test(new[] { 4103, 21030 }, NullOperationLog.Instance, default);
            Assert.False(status[0].Available);
            Assert.Equal($"container {TestRun.App("4103")}", status[0].HeldBy);
            Assert.True(status[1].Available);
            Assert.Equal(21030, Allocator(engine).Request(TestRun.App("t"), new PortRange(21030, 21030), false, NullOperationLog.Instance, default).Port);
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void Created_and_exited_containers_still_hold_their_ports_and_say_so(string row)
        {
            var engine = _state.Use(row);
            engine.CleanUp();
            engine.Run(TestRun.App("created"), 21040, start: false);
            var exited = engine.Run(TestRun.App("exited"), 21041);
            engine.Stop(exited);
            var status = Allocator(engine).Test(new[] { 21040, 21041 }, NullOperationLog.Instance, default);
            Assert.Equal($"container {TestRun.App("created")} (created)", status[0].HeldBy);
            Assert.Equal($"container {TestRun.App("exited")} (exited)", status[1].HeldBy);
            Assert.All(status, s => Assert.Equal(PortHolderSource.Container, s.Source));
            Assert.Equal(21042, Allocator(engine).Request(TestRun.App("s"), new PortRange(21040, 21050), false, NullOperationLog.Instance, default).Port);
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void A_loopback_only_binding_counts_as_held(string row)
        {
            var engine = _state.Use(row);
            engine.CleanUp();
            engine.Run(TestRun.App("loopback"), 21060, hostIp: "127.0.0.1");
            var status = Allocator(engine).Test(new[] { 21060 }, NullOperationLog.Instance, default).Single();
            Assert.False(status.Available);
            Assert.Equal(PortHolderSource.Container, status.Source);
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void Host_listeners_on_v4_and_v6_are_seen_beside_the_engine(string row)
        {
            var engine = _state.Use(row);
            var v4 = new TcpListener(IPAddress.Loopback, 21070);
            var v6 = new TcpListener(IPAddress.IPv6Any, 21071) { Server = { DualMode = false } };
            v4.Start();
            v6.Start();
            try
            {
                var status = Allocator(engine).Test(new[] { 21070, 21071, 21072 }, NullOperationLog.Instance, default);
                Assert.Equal(new bool?[] { false, false, true }, status.Select(s => (bool?)s.Available));
                Assert.Equal(PortHolderSource.Host, status[0].Source);
                Assert.Equal(PortHolderSource.Host, status[1].Source);
                Assert.Equal(21072, Allocator(engine).Request(TestRun.App("h"), new PortRange(21070, 21080), false, NullOperationLog.Instance, default).Port);
            }
            finally
            {
                v4.Stop();
                v6.Stop();
            }
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void The_apps_own_running_container_keeps_its_port_and_is_active(string row)
        {
            var engine = _state.Use(row);
            engine.CleanUp();
            var range = new PortRange(21090, 21099);
            engine.RunManaged(TestRun.App("57"), 21091, stateId: _state.StateId);
            var allocation = Allocator(engine).Request(TestRun.App("57"), range, false, NullOperationLog.Instance, default);
            Assert.Equal(21091, allocation.Port);
            Assert.Equal(AllocationStatus.Active, allocation.Status);
            // Even -Force never moves a live preview.
            Assert.Equal(21091, Allocator(engine).Request(TestRun.App("57"), range, true, NullOperationLog.Instance, default).Port);
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void Get_reconciles_active_reserved_stale_and_conflict(string row)
        {
            var engine = _state.Use(row);
            engine.CleanUp();
            var allocator = Allocator(engine);
            var range = new PortRange(21100, 21110);
            engine.RunManaged(TestRun.App("act"), 21100, stateId: _state.StateId);
            Assert.Equal(21100, allocator.Request(TestRun.App("act"), range, false, NullOperationLog.Instance, default).Port);
            Assert.Equal(21101, allocator.Request(TestRun.App("res"), range, false, NullOperationLog.Instance, default).Port);
            Assert.Equal(21102, allocator.Request(TestRun.App("stale"), range, false, NullOperationLog.Instance, default).Port);
            var staleId = engine.RunManaged(TestRun.App("stale"), 21102, stateId: _state.StateId);
            engine.Stop(staleId);
            Assert.Equal(21103, allocator.Request(TestRun.App("conf"), range, false, NullOperationLog.Instance, default).Port);
            engine.Run(TestRun.App("intruder"), 21103);

            var byApp = allocator.Get(a => a.StartsWith(TestRun.Prefix, StringComparison.Ordinal), NullOperationLog.Instance, default).ToDictionary(a => a.AppId);
            Assert.Equal(AllocationStatus.Active, byApp[TestRun.App("act")].Status);
            Assert.Equal(AllocationStatus.Reserved, byApp[TestRun.App("res")].Status);
            Assert.Equal(AllocationStatus.Stale, byApp[TestRun.App("stale")].Status);
            Assert.Equal(AllocationStatus.Conflict, byApp[TestRun.App("conf")].Status);
            Assert.Equal($"container {TestRun.App("intruder")}", byApp[TestRun.App("conf")].HeldBy);
        }

        [Theory]
        [MemberData(nameof(EngineCase.FileOnly), MemberType = typeof(EngineCase))] // a corrupt state file and its .corrupt copy: the file itself
        public void A_corrupt_state_is_rebuilt_from_labelled_containers_and_nothing_running_is_lost(string row)
        {
            var engine = _state.Use(row);
            engine.CleanUp();
            var id = engine.RunManaged(TestRun.App("90"), 21120, stateId: _state.StateId);
            System.IO.File.WriteAllText(_state.Temp.StatePath, "{ not json");
            var log = new RecordingLog();
            var all = Allocator(engine).Get(a => a.StartsWith(TestRun.Prefix, StringComparison.Ordinal), log, default);
            var rebuilt = Assert.Single(all);
            Assert.Equal((TestRun.App("90"), 21120, AllocationStatus.Active), (rebuilt.AppId, rebuilt.Port, rebuilt.Status));
            Assert.Contains(ErrorIds.StateFileCorrupt, Assert.Single(log.Warnings));
            Assert.Single(System.IO.Directory.GetFiles(_state.Temp.Directory, "state.json.corrupt-*"));
            Assert.Equal("running", engine.Find("dyad-app-" + TestRun.App("90")).State);
            Assert.Equal(21121, Allocator(engine).Request(TestRun.App("91"), new PortRange(21120, 21130), false, NullOperationLog.Instance, default).Port);
        }

        [Theory]
        [MemberData(nameof(EngineCase.Listing), MemberType = typeof(EngineCase))]   // the list path itself; the view's calls: EngineViewEngineTests
        public void An_allocation_costs_one_list_call_plus_one_inspect_per_stopped_container_first_seen(string row)
        {
            var engine = _state.Use(row);
            engine.CleanUp();
            engine.Run(TestRun.App("calls-created"), 21140, start: false);
            engine.Run(TestRun.App("calls-running"), 21141);
            var client = new ContainerEngine(engine.Endpoint, engine.Kind);   // a fresh client: its counter starts at 0
            var allocator = _state.Allocator(client, engine.Kind);
            var range = new PortRange(21140, 21150);
            long Cost(string app, int expectedPort)
            {
                var before = client.Calls;
                Assert.Equal(expectedPort, allocator.Request(TestRun.App(app), range, false, NullOperationLog.Instance, default).Port);
                return client.Calls - before;
            }

            Assert.Equal(0, client.Calls);
            // Cold: one list plus one inspect per container the list shows not running and without ports (dockerd lists
            // none for stopped or created containers), anyone's: counted from the engine's own list just before. Podman
            // lists the bindings of stopped containers too, so those cost no inspect there.
            var portless = engine.All().Count(c => !string.Equals(c.State, "running", StringComparison.OrdinalIgnoreCase) && (c.Ports == null || c.Ports.Count == 0));
            var cold = Cost("c1", 21142);
            Assert.Equal(1 + portless, cold);
            Assert.Equal(1, Cost("c2", 21143));   // warm: the one list call, every stopped container already known

            // New containers between two allocations: exactly one inspect for the new stopped one on dockerd (it lists
            // no ports for it), none for the new running one, none on podman; then back to the one list call.
            engine.Run(TestRun.App("calls-new-created"), 21145, start: false);
            engine.Run(TestRun.App("calls-new-running"), 21146);
            Assert.Equal(engine.Kind == EngineKind.Docker ? 2 : 1, Cost("c3", 21144));
            Assert.Equal(1, Cost("c4", 21147));
            client.Dispose();
        }

        [Fact]
        public void An_unreachable_engine_is_an_error_naming_the_endpoint_never_available()
        {
            var allocator = _state.Allocator(new ContainerEngine("unix:///tmp/dyadports-no-such.sock", EngineKind.Docker), EngineKind.Docker);
            var e = Assert.Throws<DyadPortsException>(() => allocator.Test(new[] { 21000 }, NullOperationLog.Instance, default));
            Assert.Equal(ErrorIds.EngineUnreachable, e.ErrorId);
            Assert.Equal(FailureCategory.ConnectionError, e.Category);
            Assert.Equal("unix:///tmp/dyadports-no-such.sock", e.Target);
            Assert.Contains("unix:///tmp/dyadports-no-such.sock", e.Message);
            Assert.Null(_state.Peek());
        }
    }
}
