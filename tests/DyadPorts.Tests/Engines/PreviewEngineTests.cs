using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Previews;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>Start-DyadPreview's flow against real dockerd, real podman and the process engine. Ports 21300-21499; AppIds carry <see cref="TestRun.Prefix"/>.</summary>
    [Collection(EngineCollection.Name)]
    public sealed class PreviewEngineTests : IDisposable
    {
        private readonly PreviewScenario _scenario = new PreviewScenario("hello from the preview");

        public PreviewEngineTests(EngineFixture engines)
        {
            _ = engines; // the collection's fixture: both engines, and this run's clean-up at the end
        }

        public void Dispose() => _scenario.Dispose();

        private PortAllocator Allocator(TestEngine engine) => _scenario.Allocator(engine);
        private PreviewLauncher Launcher(TestEngine engine) => _scenario.Launcher(engine);

        /// <summary>A preview request for this run's app <paramref name="appId"/> (<see cref="TestRun.App"/>).</summary>
        private PreviewRequest Request(string appId, TestEngine engine, PortRange range, string command = null)
        {
            var request = _scenario.Request(TestRun.App(appId), engine, range.First, range.Last);
            if (command != null) request.Command = new[] { command };
            return request;
        }

        private static string Get(int port) => PreviewScenario.Get(port);

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void The_seeds_after_fix_56_57_58_answer_on_the_first_three_ports_of_the_range(string row)
        {
            var engine = _scenario.Use(row);
            engine.CleanUp();
            var range = new PortRange(21300, 21310);
            var previews = new[] { "56", "57", "58" }.Select(id => Launcher(engine).Start(Request(id, engine, range), NullOperationLog.Instance, default)).ToList();
            Assert.Equal(new[] { 21300, 21301, 21302 }, previews.Select(p => p.Port));
            foreach (var p in previews)
            {
                Assert.Equal("hello from the preview", Get(p.Port).Trim());
                Assert.Equal($"http://localhost:{p.Port}", p.Url);
                Assert.Equal("running", p.State);
                Assert.Equal(engine.Kind, p.Engine);
            }
            // What `ps` shows: exactly those bindings.
            var bindings = engine.All().Where(c => c.Names.Any(n => n.StartsWith("/dyad-app-" + TestRun.Prefix, StringComparison.Ordinal)))
                .ToDictionary(c => c.Names[0].TrimStart('/'), c => c.Ports.Where(x => x.PublicPort > 0).Select(x => (int)x.PublicPort).Distinct().Single());
            Assert.Equal(21300, bindings["dyad-app-" + TestRun.App("56")]);
            Assert.Equal(21301, bindings["dyad-app-" + TestRun.App("57")]);
            Assert.Equal(21302, bindings["dyad-app-" + TestRun.App("58")]);
            Assert.Equal(3, bindings.Count);
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void A_second_start_is_idempotent_and_a_stopped_container_is_replaced(string row)
        {
            var engine = _scenario.Use(row);
            engine.CleanUp();
            var range = new PortRange(21320, 21330);
            var first = Launcher(engine).Start(Request("61", engine, range), NullOperationLog.Instance, default);
            var again = Launcher(engine).Start(Request("61", engine, range), NullOperationLog.Instance, default);
            Assert.Equal(first.ContainerId, again.ContainerId);
            Assert.Equal(first.Port, again.Port);

            engine.Stop(first.ContainerId);
            var replaced = Launcher(engine).Start(Request("61", engine, range), NullOperationLog.Instance, default);
            Assert.NotEqual(first.ContainerId, replaced.ContainerId);
            Assert.Equal(first.Port, replaced.Port); // released, then reused: it is the lowest free port again
            Assert.Single(engine.All(), c => c.Names.Contains("/dyad-app-" + TestRun.App("61")));
            Assert.Equal("hello from the preview", Get(replaced.Port).Trim());
        }

        [Theory]
        [MemberData(nameof(EngineCase.Fleet), MemberType = typeof(EngineCase))]
        public void A_running_preview_recorded_again_after_its_allocation_was_removed_names_this_machine_in_its_stored_record(string row)
        {
            var engine = _scenario.Use(row);
            engine.CleanUp();
            var range = new PortRange(21400, 21405);
            var appId = TestRun.App("62");
            var first = Launcher(engine).Start(Request("62", engine, range), NullOperationLog.Instance, default);
            Assert.NotNull(_scenario.Allocator(engine).Release(appId, NullOperationLog.Instance, default)); // Remove-DyadPortAllocation: the container runs on
            var again = Launcher(engine).Start(Request("62", engine, range), NullOperationLog.Instance, default); // found running: recorded again
            Assert.Equal(first.ContainerId, again.ContainerId);

            // The record as stored, not only the key its claim is under: another machine reads the host from it.
            using var raw = TestEtcd.Connect(_scenario.State.Prefix);
            var stored = TestEtcd.Dump(raw, _scenario.State.Prefix).Single(kv => kv.Key.EndsWith("/apps/" + Uri.EscapeDataString(appId), StringComparison.Ordinal)).Value;
            Assert.Equal(MachineIdentity.Current.LocalHost, (string)Newtonsoft.Json.Linq.JObject.Parse(stored)["record"]?["host"]);
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void Losing_the_race_between_check_and_start_lands_on_the_next_port(string row)
        {
            var engine = _scenario.Use(row);
            engine.CleanUp();
            var grabbed = false;
            var launcher = new StartHooks
            {
                BeforeLaunch = port =>
                {
                    if (grabbed) return;
                    grabbed = true;
                    engine.Run(TestRun.App("thief"), port); // another container takes the port after our check
                },
            }.Wrap(Allocator(engine));
            var log = new RecordingLog();
            var preview = launcher.Start(Request("62", engine, new PortRange(21340, 21350)), log, default);
            Assert.Equal(21341, preview.Port);
            Assert.Equal(new[] { 21340 }, preview.PortsLostToRaces);
            Assert.Contains(log.Verbose, v => v.Contains("refused port 21340", StringComparison.Ordinal));
            Assert.Equal("hello from the preview", Get(21341).Trim());
            Assert.Single(engine.All(), c => c.Names.Any(n => n.StartsWith("/dyad-app-" + TestRun.App("62"), StringComparison.Ordinal)));
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void Auto_kill_removes_only_stale_labelled_containers_an_unlabelled_one_survives(string row)
        {
            var engine = _scenario.Use(row);
            engine.CleanUp();
            var unlabelled = engine.Run(TestRun.App("unlabelled"), 21360, start: false);
            // The state exists and gives "old" nothing: its container is an orphan of this state (the seed's zombie).
            Allocator(engine).Request(TestRun.App("other"), new PortRange(21366, 21366), false, NullOperationLog.Instance, default);
            var stale = engine.RunManaged(TestRun.App("old"), 21361, start: false, stateId: _scenario.State.StateId);
            var request = Request("63", engine, new PortRange(21360, 21365));
            request.AutoKillPort = true;
            var log = new RecordingLog();
            var preview = Launcher(engine).Start(request, log, default);
            Assert.Equal(21361, preview.Port);
            Assert.NotNull(engine.Find(TestRun.App("unlabelled")));
            Assert.Null(engine.Find("dyad-app-" + TestRun.App("old")));
            Assert.Contains(log.Verbose, v => v.Contains("no dyadports.managed label"));
            Assert.Contains(log.Verbose, v => v.Contains("removing it"));
            Assert.Equal(unlabelled, engine.Find(TestRun.App("unlabelled")).ID);
            Assert.NotEqual(stale, preview.ContainerId);
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void A_host_listener_on_the_wanted_port_is_passed_over(string row)
        {
            var engine = _scenario.Use(row);
            engine.CleanUp();
            var listener = new TcpListener(IPAddress.Any, 21370);
            listener.Start();
            try
            {
                var preview = Launcher(engine).Start(Request("64", engine, new PortRange(21370, 21375)), NullOperationLog.Instance, default);
                Assert.Equal(21371, preview.Port);
                Assert.Equal("hello from the preview", Get(21371).Trim());
            }
            finally
            {
                listener.Stop();
            }
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void A_preview_that_exits_at_once_fails_with_its_logs_and_leaves_nothing_behind(string row)
        {
            var engine = _scenario.Use(row);
            engine.CleanUp();
            var request = Request("65", engine, new PortRange(21380, 21385), "echo boom-$PORT; exit 3");
            var e = Assert.Throws<DyadPortsException>(() => Launcher(engine).Start(request, NullOperationLog.Instance, default));
            Assert.Equal(ErrorIds.PreviewExitedEarly, e.ErrorId);
            Assert.Contains("boom-21380", e.Message);
            Assert.Equal(TestRun.App("65"), e.Target);
            Assert.Null(engine.Find("dyad-app-" + TestRun.App("65")));
            Assert.False(_scenario.State.Peek().Allocations.ContainsKey(TestRun.App("65")));
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void A_missing_image_that_cannot_be_pulled_is_ImageNotFound(string row)
        {
            var engine = _scenario.Use(row);
            var request = Request("66", engine, new PortRange(21390, 21395));
            request.Image = "localhost:1/dyadports/no-such-image:1";
            var e = Assert.Throws<DyadPortsException>(() => Launcher(engine).Start(request, NullOperationLog.Instance, default));
            Assert.Equal(ErrorIds.ImageNotFound, e.ErrorId);
            Assert.Equal(request.Image, e.Target);
            Assert.Contains("import", e.Message);
            Assert.Null(engine.Find("dyad-app-" + TestRun.App("66")));
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void Stop_with_remove_removes_only_our_container_and_releases_the_port(string row)
        {
            var engine = _scenario.Use(row);
            engine.CleanUp();
            var preview = Launcher(engine).Start(Request("67", engine, new PortRange(21400, 21405)), NullOperationLog.Instance, default);
            var stopped = Launcher(engine).Stop(TestRun.App("67"), remove: true, keepAllocation: false, NullOperationLog.Instance, default);
            Assert.Equal("removed", stopped.State);
            Assert.Null(engine.Find("dyad-app-" + TestRun.App("67")));
            Assert.False(_scenario.State.Peek().Allocations.ContainsKey(TestRun.App("67")));
            Assert.True(DyadPorts.Core.Availability.HostPortProbe.Instance.IsFree(preview.Port));
            Assert.Null(Launcher(engine).Stop(TestRun.App("67"), true, false, NullOperationLog.Instance, default));
        }

        [Fact]
        public void The_process_engine_starts_answers_stops_and_releases_its_port()
        {
            var listener = new TcpListener(IPAddress.Any, 21410);
            listener.Start();
            try
            {
                var request = Request("68", null, new PortRange(21410, 21415), "exec busybox httpd -f -p \"$PORT\" -h .");
                var preview = Launcher(null).Start(request, NullOperationLog.Instance, default);
                Assert.Equal(21411, preview.Port);
                Assert.Equal(EngineKind.Process, preview.Engine);
                Assert.NotNull(preview.ProcessId);
                Assert.Equal("hello from the preview", Get(21411).Trim());

                var allocation = Allocator(null).Get(id => id == TestRun.App("68"), NullOperationLog.Instance, default).Single();
                Assert.Equal(AllocationStatus.Active, allocation.Status);
                Assert.Equal(preview.Port, Launcher(null).Start(request, NullOperationLog.Instance, default).Port); // idempotent

                Launcher(null).Stop(TestRun.App("68"), remove: false, keepAllocation: false, NullOperationLog.Instance, default);
                Assert.False(_scenario.State.Peek().Allocations.ContainsKey(TestRun.App("68")));
                Assert.True(DyadPorts.Core.Availability.HostPortProbe.Instance.IsFree(21411));
            }
            finally
            {
                listener.Stop();
            }
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void A_start_keeps_the_port_its_app_holds_while_it_is_free_and_takes_the_state_lock_twice(string row)
        {
            var engine = _scenario.Use(row);
            var range = new PortRange(21420, 21425);
            var app = TestRun.App("keep");
            var other = TestRun.App("keep-other");
            Allocator(engine).Request(other, range, false, NullOperationLog.Instance, default);
            Assert.Equal(21421, Allocator(engine).Request(app, range, false, NullOperationLog.Instance, default).Port);
            Allocator(engine).Release(other, NullOperationLog.Instance, default); // 21420 is free again

            var allocator = Allocator(engine);
            var started = new PreviewLauncher(allocator).Start(Request("keep", engine, range), NullOperationLog.Instance, default);
            Assert.Equal(21421, started.Port);
            Assert.Equal("hello from the preview", Get(21421));
            Assert.Equal(2, allocator.Ledger.LockCycles); // reserve, then record: the read before them takes no lock

            // Stop -KeepAllocation promises that the port stays reserved: the next start comes back to it.
            Launcher(engine).Stop(app, remove: false, keepAllocation: true, NullOperationLog.Instance, default);
            Assert.Equal(21421, Launcher(engine).Start(Request("keep", engine, range), NullOperationLog.Instance, default).Port);
            var history = allocator.Ledger.History(NullOperationLog.Instance, default).Where(e => e.AppId == app).ToList();
            Assert.DoesNotContain(history, e => e.Kind == PortEventKind.Moved);
            Assert.DoesNotContain(history, e => e.Reason == "-Force");
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void A_start_moves_only_when_the_port_its_app_holds_is_taken_and_records_no_Force(string row)
        {
            var engine = _scenario.Use(row);
            var range = new PortRange(21430, 21435);
            var app = TestRun.App("taken");
            var other = TestRun.App("taken-other");
            Allocator(engine).Request(other, range, false, NullOperationLog.Instance, default);
            Assert.Equal(21431, Allocator(engine).Request(app, range, false, NullOperationLog.Instance, default).Port);
            Allocator(engine).Release(other, NullOperationLog.Instance, default);
            engine.Run(TestRun.App("taken-thief"), 21431); // someone else's container on the app's port

            var log = new RecordingLog();
            var started = Launcher(engine).Start(Request("taken", engine, range), log, default);
            Assert.Equal(21430, started.Port);
            Assert.Contains(log.Warnings, w => w.Contains("port 21431 is held by", StringComparison.Ordinal));
            var moved = Assert.Single(Allocator(engine).Ledger.History(NullOperationLog.Instance, default), e => e.AppId == app && e.Kind == PortEventKind.Moved);
            Assert.Equal((21431, 21430), (moved.PreviousPort, moved.Port));
            Assert.NotNull(moved.HeldBy);
            Assert.NotEqual("-Force", moved.Reason);
        }

        [Fact]
        public void A_start_that_cannot_reserve_again_after_losing_a_race_gives_back_its_reservation_and_journals_the_race()
        {
            var app = TestRun.App("exh");
            System.Net.Sockets.TcpListener thief = null;
            var launcher = new StartHooks
            {
                BeforeLaunch = port =>
                {
                    if (thief != null) return;
                    thief = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Any, port); // a host process takes the port after the check
                    thief.Start();
                },
            }.Wrap(Allocator(null));
            try
            {
                var e = Assert.Throws<DyadPortsException>(() => launcher.Start(Request("exh", null, new PortRange(21440, 21440)), NullOperationLog.Instance, default));
                Assert.Equal(ErrorIds.PortRangeExhausted, e.ErrorId);
            }
            finally
            {
                thief?.Stop();
            }
            Assert.False(_scenario.State.Peek().Allocations.ContainsKey(app)); // the first attempt's reservation was given back
            var history = Allocator(null).Ledger.History(NullOperationLog.Instance, default).Where(h => h.AppId == app).Select(h => h.Kind).ToList();
            Assert.Equal(new[] { PortEventKind.Allocated, PortEventKind.RaceLost, PortEventKind.PreviewFailed, PortEventKind.Released }, history);
        }
    }
}
