using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using DyadPorts.Core.Ledger;
using DyadPorts;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Previews;
using DyadPorts.Core.State;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>
    /// Nothing any user owns is lost or killed (issue 9), against real dockerd and real podman: AUTO_KILL_PORT
    /// reclaims orphans only, one start per app, lossless recovery, owned-only releases. Ports 21500-21699.
    /// </summary>
    [Collection(EngineCollection.Name)]
    public sealed class SafetyEngineTests : IDisposable
    {
        private readonly PreviewScenario _scenario = new PreviewScenario("safe preview");

        public SafetyEngineTests(EngineFixture engines)
        {
            _ = engines; // the collection's fixture: both engines, and this run's clean-up at the end
        }

        public void Dispose() => _scenario.Dispose();

        private EngineState State => _scenario.State;

        private string StateId => State.StateId;

        private PortAllocator Allocator(TestEngine engine) => _scenario.Allocator(engine);

        private PreviewLauncher Launcher(TestEngine engine) => _scenario.Launcher(engine);

        private PreviewRequest Request(string appId, TestEngine engine, int first, int last, bool autoKill = false) => _scenario.Request(appId, engine, first, last, autoKill);

        private static string Get(int port) => PreviewScenario.Get(port);

        // ---- 1. AUTO_KILL_PORT -------------------------------------------------------------------------

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void Auto_kill_passes_over_a_stopped_preview_that_kept_its_allocation(string row)
        {
            var engine = _scenario.Use(row);
            var a = TestRun.App("keep-a");
            var b = TestRun.App("keep-b");
            var first = Launcher(engine).Start(Request(a, engine, 21500, 21500), NullOperationLog.Instance, default);
            Launcher(engine).Stop(a, remove: false, keepAllocation: true, NullOperationLog.Instance, default);
            Assert.Equal("exited", engine.Find("dyad-app-" + a).State);

            var e = Assert.Throws<DyadPortsException>(() => Launcher(engine).Start(Request(b, engine, 21500, 21500, autoKill: true), new RecordingLog(), default));
            Assert.Equal(ErrorIds.PortRangeExhausted, e.ErrorId);
            Assert.Equal(first.ContainerId, engine.Find("dyad-app-" + a).ID);
            Assert.Equal(21500, State.Peek().Allocations[a].Port);
            Assert.False(State.Peek().Allocations.ContainsKey(b));
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void Auto_kill_still_reclaims_the_seeds_zombie_an_orphan_of_this_state(string row)
        {
            var engine = _scenario.Use(row);
            var zombie = TestRun.App("zombie");
            // The state exists and gives the zombie's app nothing (say, Remove-DyadPortAllocation released it).
            Allocator(engine).Request(TestRun.App("z-other"), new PortRange(21515, 21515), false, NullOperationLog.Instance, default);
            var orphan = engine.RunManaged(zombie, 21510, start: false, stateId: StateId);
            var log = new RecordingLog();
            var preview = Launcher(engine).Start(Request(TestRun.App("z-new"), engine, 21510, 21512, autoKill: true), log, default);
            Assert.Equal(21510, preview.Port);
            Assert.Null(engine.Find("dyad-app-" + zombie));
            Assert.Contains(log.Verbose, v => v.Contains("orphaned") && v.Contains("removing it"));
            Assert.Equal("safe preview", Get(21510));
            Assert.NotEqual(orphan, preview.ContainerId);
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void Auto_kill_never_touches_another_states_or_a_legacy_or_an_unlabelled_container(string row)
        {
            var engine = _scenario.Use(row);
            var otherState = engine.RunManaged(TestRun.App("other"), 21520, start: false, stateId: "00000000deadbeef");
            var legacy = engine.RunManaged(TestRun.App("legacy"), 21521, start: false);
            var unlabelled = engine.Run(TestRun.Prefix + "plain", 21522, start: false);
            var preview = Launcher(engine).Start(Request(TestRun.App("o-new"), engine, 21520, 21523, autoKill: true), new RecordingLog(), default);
            Assert.Equal(21523, preview.Port);
            Assert.Equal(otherState, engine.Find("dyad-app-" + TestRun.App("other")).ID);
            Assert.Equal(legacy, engine.Find("dyad-app-" + TestRun.App("legacy")).ID);
            Assert.NotNull(engine.All().FirstOrDefault(c => c.ID == unlabelled));
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void Starts_label_containers_with_this_states_id(string row)
        {
            var engine = _scenario.Use(row);
            var preview = Launcher(engine).Start(Request(TestRun.App("labelled"), engine, 21530, 21531), NullOperationLog.Instance, default);
            var listed = engine.All().Single(c => c.ID == preview.ContainerId);
            Assert.Equal(State.Peek().StateId, listed.Labels[ContainerSummary.StateLabel]);
            Assert.Equal(StateId, listed.Labels[ContainerSummary.StateLabel]);
            Assert.Equal("true", listed.Labels[ContainerSummary.ManagedLabel]);
        }

        // ---- 2. One start per app ------------------------------------------------------------------------

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void Two_simultaneous_starts_of_one_app_end_with_one_preview_and_its_allocation(string row)
        {
            var engine = _scenario.Use(row);
            var app = TestRun.App("twice");
            using var go = new ManualResetEventSlim();
            var starts = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
            {
                go.Wait();
                // Separate ledgers and launchers, as two runspaces would have; the same state and engine.
                return Launcher(engine).Start(Request(app, engine, 21540, 21545), NullOperationLog.Instance, default);
            })).ToArray();
            go.Set();
            var previews = starts.Select(t => t.GetAwaiter().GetResult()).ToList();
            Assert.Equal(previews[0].ContainerId, previews[1].ContainerId);
            Assert.Equal(previews[0].Port, previews[1].Port);
            Assert.Single(engine.All(), c => c.Names.Contains("/dyad-app-" + app));
            var record = State.Peek().Allocations[app];
            Assert.Equal(previews[0].Port, record.Port);
            Assert.Equal(previews[0].ContainerId, record.ContainerId);
            Assert.Equal("safe preview", Get(record.Port));
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void A_container_that_merely_has_the_name_is_never_the_apps_own(string row)
        {
            var engine = _scenario.Use(row);
            var app = TestRun.App("squat");
            var squatter = engine.Run("dyad-app-" + app, 21550); // running, no DyadPorts label
            var allocation = Allocator(engine).Request(app, new PortRange(21550, 21555), false, NullOperationLog.Instance, default);
            Assert.Equal(21551, allocation.Port);
            var e = Assert.Throws<DyadPortsException>(() => Launcher(engine).Start(Request(app, engine, 21550, 21555), NullOperationLog.Instance, default));
            Assert.Equal(ErrorIds.ContainerNameInUse, e.ErrorId);
            Assert.False(e.IsTerminating);
            Assert.Equal("dyad-app-" + app, e.Target);
            Assert.Equal(squatter, engine.Find("dyad-app-" + app).ID);
            Assert.Equal("running", engine.Find("dyad-app-" + app).State);
            Assert.Equal(21551, State.Peek().Allocations[app].Port); // its reservation is untouched
        }

        // ---- 3. Recovery ---------------------------------------------------------------------------------

        [Theory]
        [MemberData(nameof(EngineCase.FileOnly), MemberType = typeof(EngineCase))] // a truncated state file: the file itself
        public void Removing_one_app_from_a_corrupt_state_keeps_every_other_app(string row)
        {
            var engine = _scenario.Use(row);
            var keep = TestRun.App("r-keep");
            var drop = TestRun.App("r-drop");
            Launcher(engine).Start(Request(keep, engine, 21560, 21565), NullOperationLog.Instance, default);
            Launcher(engine).Start(Request(drop, engine, 21560, 21565), NullOperationLog.Instance, default);
            var foreign = engine.RunManaged(TestRun.App("r-foreign"), 21566, stateId: "00000000deadbeef");
            File.WriteAllText(State.Temp.StatePath, "{ truncated");

            // Remove-DyadPortAllocation's allocator: no engine of its own, the engine resolved only to recover.
            var releaser = new PortAllocator(State.Ledger(new LabelledContainerRecovery(null, (_, _) => Allocator(engine).Engine, State.Location)), State.Snapshots(null));
            var log = new RecordingLog();
            Assert.Equal(21561, releaser.Release(drop, log, default).Port);
            var state = State.Peek();
            Assert.Equal(new[] { keep }, state.Allocations.Keys);
            Assert.Equal(21560, state.Allocations[keep].Port);
            Assert.Contains(ErrorIds.StateFileCorrupt, Assert.Single(log.Warnings));
            Assert.Equal(foreign, engine.Find("dyad-app-" + TestRun.App("r-foreign")).ID);
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void A_rebuild_takes_only_this_states_containers(string row)
        {
            var engine = _scenario.Use(row);
            engine.RunManaged(TestRun.App("mine"), 21570, stateId: StateId);
            engine.RunManaged(TestRun.App("theirs"), 21571, stateId: "00000000deadbeef");
            engine.RunManaged(TestRun.App("old"), 21572);
            // On the file the state is garbage; on etcd nothing is stored yet: either way the next command rebuilds it.
            if (!State.OnEtcd) File.WriteAllText(State.Temp.StatePath, "garbage");
            var all = Allocator(engine).Get(id => id.StartsWith(TestRun.Prefix, StringComparison.Ordinal), new RecordingLog(), default);
            var only = Assert.Single(all);
            Assert.Equal((TestRun.App("mine"), 21570, AllocationStatus.Active), (only.AppId, only.Port, only.Status));
            // The other state's container still holds its port for everyone.
            Assert.DoesNotContain(Allocator(engine).Test(new[] { 21571, 21572 }, NullOperationLog.Instance, default), s => s.Available);
        }

        [Theory]
        [MemberData(nameof(EngineCase.FileOnly), MemberType = typeof(EngineCase))]
        public void A_rebuild_of_a_cut_file_takes_the_previews_of_the_states_it_adopted_too(string row)
        {
            var engine = _scenario.Use(row);
            const string adopted = "00000000cafef00d";
            engine.RunManaged(TestRun.App("own"), 21573, stateId: StateId);
            engine.RunManaged(TestRun.App("adopted"), 21574, stateId: adopted);
            engine.RunManaged(TestRun.App("stranger"), 21575, stateId: "00000000deadbeef");
            // A file cut off mid-write after Copy-DyadPortState had made the other state's previews this state's own.
            File.WriteAllText(State.Temp.StatePath, $"{{\"version\":2,\"stateId\":\"{StateId}\",\"adoptedStateIds\":[\"{adopted}\"],\"allocations\":{{\"x\":{{\"appId\":\"x\",\"po");
            var all = Allocator(engine).Get(id => id.StartsWith(TestRun.Prefix, StringComparison.Ordinal), new RecordingLog(), default);
            Assert.Equal(new[] { (TestRun.App("adopted"), 21574), (TestRun.App("own"), 21573) }, all.Select(a => (a.AppId, a.Port)).OrderBy(a => a.Item1, StringComparer.Ordinal));
            Assert.Equal(new[] { adopted }, State.Peek().AdoptedStateIds);
        }

        // ---- 6. Failure paths clean up and never release what they do not own ---------------------------

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void An_allocation_removed_mid_start_is_recorded_again_where_the_preview_runs(string row)
        {
            var engine = _scenario.Use(row);
            var app = TestRun.App("vanish");
            var launcher = new StartHooks { AfterLaunch = _ => Allocator(engine).Release(app, NullOperationLog.Instance, default) }.Wrap(Allocator(engine));
            var preview = launcher.Start(Request(app, engine, 21580, 21585), new RecordingLog(), default);
            var record = State.Peek().Allocations[app];
            Assert.Equal((preview.Port, preview.ContainerId), (record.Port, record.ContainerId));
            Assert.Equal("safe preview", Get(preview.Port));
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void A_port_taken_in_the_state_mid_start_is_given_up_and_the_other_apps_allocation_kept(string row)
        {
            var engine = _scenario.Use(row);
            var app = TestRun.App("steal");
            var other = TestRun.App("stealer");
            var stolen = false;
            var launcher = new StartHooks
            {
                AfterLaunch = port =>
                {
                    if (stolen) return;
                    stolen = true;
                    State.Seed(s => { s.Allocations.Remove(app); s.Allocations[other] = new AllocationRecord { AppId = other, Port = port, Engine = engine.Kind }; });
                },
            }.Wrap(Allocator(engine));
            var preview = launcher.Start(Request(app, engine, 21590, 21595), new RecordingLog(), default);
            Assert.Equal(21591, preview.Port);
            Assert.Equal(new[] { 21590 }, preview.PortsLostToRaces);
            Assert.Equal(21590, State.Peek().Allocations[other].Port);
            Assert.Single(engine.All(), c => c.Names.Contains("/dyad-app-" + app));
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void Cancelling_after_the_container_was_created_removes_it_and_releases_only_this_starts_port(string row)
        {
            var engine = _scenario.Use(row);
            var app = TestRun.App("cancel");
            using var cts = new CancellationTokenSource();
            var launcher = new StartHooks { AfterLaunch = _ => cts.Cancel() }.Wrap(Allocator(engine));
            var request = Request(app, engine, 21600, 21605);
            request.Command = new[] { "sleep 30" }; // never answers: the wait would run until cancelled
            Assert.ThrowsAny<OperationCanceledException>(() => launcher.Start(request, new RecordingLog(), cts.Token));
            Assert.Null(engine.Find("dyad-app-" + app));
            Assert.False(State.Peek()?.Allocations.ContainsKey(app) ?? false);
            Assert.DoesNotContain(State.History(), e => e.AppId == app && e.Kind == PortEventKind.PreviewFailed);
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void Ctrl_C_during_the_readiness_wait_is_a_cancellation_even_when_the_shell_throws_on_the_way_out(string row)
        {
            var engine = _scenario.Use(row);
            var app = TestRun.App("ctrlc");
            using var cts = new CancellationTokenSource();
            // As a cmdlet's log on Ctrl+C: the first progress of the wait cancels, and from then on PowerShell's
            // WriteProgress throws PipelineStoppedException, here in the wait's closing progress record.
            var log = new RecordingLog { Stopping = () => cts.IsCancellationRequested, OnProgress = cts.Cancel };
            var request = Request(app, engine, 21606, 21609);
            request.Command = new[] { "sleep 30" }; // never answers
            Assert.ThrowsAny<OperationCanceledException>(() => Launcher(engine).Start(request, log, cts.Token));
            Assert.Null(engine.Find("dyad-app-" + app));
            Assert.False(State.Peek()?.Allocations.ContainsKey(app) ?? false);
            // A cancelled start is not a failed one: nothing journals it as PreviewFailed (nor counts it in the metrics).
            Assert.DoesNotContain(State.History(), e => e.AppId == app && e.Kind == PortEventKind.PreviewFailed);
        }

        public static IEnumerable<object[]> FaultsAfterLaunch()
        {
            foreach (var row in EngineCase.Names)
            {
                yield return new object[] { row, "engine", ErrorIds.EngineRequestFailed };
                yield return new object[] { row, "io", ErrorIds.ContainerStartFailed };
                yield return new object[] { row, "key", ErrorIds.ContainerStartFailed };
            }
        }

        [Theory]
        [MemberData(nameof(FaultsAfterLaunch))]
        public void A_fault_after_the_container_started_is_mapped_and_cleans_up(string row, string fault, string errorId)
        {
            var engine = _scenario.Use(row);
            var app = TestRun.App("fault-" + fault);
            var launcher = new StartHooks { AfterLaunch = port => throw (fault == "engine"
                ? new EngineRefusedException(engine.Endpoint, "inspect container x", HttpStatusCode.InternalServerError, "simulated engine failure", null)
                : fault == "io" ? new IOException("simulated I/O failure") : (Exception)new KeyNotFoundException("simulated missing key")) }.Wrap(Allocator(engine));
            var e = Assert.IsAssignableFrom<DyadPortsException>(Record.Exception(() => launcher.Start(Request(app, engine, 21625, 21630), new RecordingLog(), default)));
            Assert.Equal(errorId, e.ErrorId);
            Assert.False(e.IsTerminating);
            Assert.Equal(app, e.Target); // the app, also when the engine refused a request about its container
            Assert.Contains("simulated", e.Message);
            Assert.Null(engine.Find("dyad-app-" + app));
            Assert.False(State.Peek().Allocations.ContainsKey(app));
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void A_failed_start_gives_back_the_allocation_the_app_had(string row)
        {
            var engine = _scenario.Use(row);
            var app = TestRun.App("had");
            Assert.Equal(21640, Allocator(engine).Request(app, new PortRange(21640, 21645), false, NullOperationLog.Instance, default).Port);
            var request = Request(app, engine, 21640, 21645);
            request.Command = new[] { "echo no; exit 5" };
            var e = Assert.Throws<DyadPortsException>(() => Launcher(engine).Start(request, new RecordingLog(), default));
            Assert.Equal(ErrorIds.PreviewExitedEarly, e.ErrorId);
            var record = State.Peek().Allocations[app];
            Assert.Equal((21640, (string)null), (record.Port, record.ContainerId));
            Assert.Null(engine.Find("dyad-app-" + app));
        }

        [Fact]
        public void Stop_refuses_a_preview_that_is_a_container_of_another_engine_and_releases_nothing()
        {
            var app = TestRun.App("elsewhere");
            State.Seed(s => s.Allocations[app] = new AllocationRecord { AppId = app, Port = 21646, Engine = EngineKind.Podman, EngineEndpoint = "unix:///run/dyadports-no-such/podman.sock", ContainerId = "0123456789abcdef0123" });
            var launcher = Launcher(null);
            var e = Assert.Throws<DyadPortsException>(() => launcher.Stop(app, false, false, NullOperationLog.Instance, default));
            Assert.Equal(ErrorIds.PreviewOnOtherEngine, e.ErrorId);
            Assert.False(e.IsTerminating);
            Assert.Contains("-EngineEndpoint unix:///run/dyadports-no-such/podman.sock", e.Message);
            Assert.Equal(21646, State.Peek().Allocations[app].Port);
        }

        [Fact]
        public void A_failure_path_releases_only_the_allocation_its_own_start_made()
        {
            var app = TestRun.App("owned");
            State.Seed(s => s.Allocations[app] = new AllocationRecord { AppId = app, Port = 21620, ContainerId = "theirs" });
            var allocator = Allocator(null);
            Assert.False(allocator.ReleaseIfOwned(app, 21620, "mine", null, NullOperationLog.Instance));
            Assert.False(allocator.ReleaseIfOwned(app, 21621, null, null, NullOperationLog.Instance));
            Assert.False(allocator.ReleaseIfOwned(app, 21620, null, 4242, NullOperationLog.Instance));
            Assert.Equal("theirs", State.Peek().Allocations[app].ContainerId);
            Assert.True(allocator.ReleaseIfOwned(app, 21620, "theirs", null, NullOperationLog.Instance));
            Assert.False(State.Peek().Allocations.ContainsKey(app));
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void No_docker_dotnet_exception_leaves_the_engine_client(string row)
        {
            var engine = _scenario.Use(row);
            var stop = Assert.Throws<EngineRefusedException>(() => engine.Engine.Stop("dyadports-no-such-container", TimeSpan.Zero, default));
            Assert.Equal(HttpStatusCode.NotFound, stop.StatusCode);
            Assert.Equal(ErrorIds.EngineRequestFailed, stop.ErrorId);
            Assert.Equal(engine.Endpoint, stop.Target);
            Assert.Throws<EngineRefusedException>(() => engine.Engine.Start("dyadports-no-such-container", default));
            var create = Assert.Throws<EngineRefusedException>(() => engine.Engine.Create(new Docker.DotNet.Models.CreateContainerParameters { Name = "bad name!", Image = engine.Image }, default));
            Assert.Contains("bad name!", create.Message);
            Assert.Null(engine.Engine.InspectOrNull("dyadports-no-such-container", default));
        }
    }
}
