using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Previews;
using DyadPorts.Core.State;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>The idle reaper (issue 16) against real dockerd and podman, and on process previews. Ports 21720-21749.</summary>
    [Collection(EngineCollection.Name)]
    public sealed class IdleReaperEngineTests : IDisposable
    {
        private static readonly TimeSpan IdleFor = TimeSpan.FromSeconds(4);
        private readonly PreviewScenario _scenario = new PreviewScenario("reaper");
        private readonly HostedPowerShell _ps = new HostedPowerShell();

        public IdleReaperEngineTests(EngineFixture engines)
        {
            _ = engines; // the collection's fixture: both engines, and this run's clean-up at the end
        }

        public void Dispose()
        {
            _ps.Dispose();
            _scenario.Dispose();
        }

        private static IReadOnlyList<Preview> Reap(IdleReaper reaper, Func<string, bool> mine, RecordingLog log = null) =>
            reaper.Reap(IdleFor, mine, (_, _) => true, remove: true, keepAllocation: false, log ?? new RecordingLog(), default);

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void A_preview_without_requests_is_stopped_through_neighbour_traffic_while_a_busy_one_and_one_with_an_open_connection_are_kept(string row)
        {
            var engine = _scenario.Use(row);
            var idle = TestRun.App("ridle");
            var busy = TestRun.App("rbusy");
            var held = TestRun.App("rheld");
            var pIdle = _scenario.Launcher(engine).Start(_scenario.Request(idle, engine, 21720, 21725), NullOperationLog.Instance, default);
            var pBusy = _scenario.Launcher(engine).Start(_scenario.Request(busy, engine, 21720, 21725), NullOperationLog.Instance, default);
            var pHeld = _scenario.Launcher(engine).Start(_scenario.Request(held, engine, 21720, 21725), NullOperationLog.Instance, default);
            // A neighbour on the same bridge asks for the idle preview's address by ARP every second, so the idle
            // preview transmits an answer every second without serving anything (the bytes 0.2.0 judged by).
            var address = engine.Engine.InspectOrNull(pIdle.ContainerId, default).NetworkSettings.Networks.Values.Select(n => n.IPAddress).First(a => !string.IsNullOrEmpty(a));
            Assert.True(IPAddress.TryParse(address, out _), address);
            engine.Run($"{TestRun.Prefix}rneighbour", 21729, cmd: new List<string> { "sh", "-c", $"while true; do busybox arping -I eth0 -c 1 -w 1 {address}; sleep 1; done" }, capAdd: new List<string> { "NET_RAW" });
            bool Mine(string id) => id == idle || id == busy || id == held;
            var reaper = new IdleReaper(_scenario.Allocator(engine));

            // The idle preview serves one request before the first sample (its kernel may confirm the neighbour it
            // talked to some 5 s later, another ARP frame it transmits). The held one gets a client
            // that connects and then sends nothing (a browser tab's quiet HMR socket).
            Assert.Equal("reaper", PreviewScenario.Get(pIdle.Port));
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, pHeld.Port);
            var txBefore = engine.Engine.NetworkBytes(pIdle.ContainerId, default).Value.Transmitted;
            var log = new RecordingLog();
            Assert.Empty(Reap(reaper, Mine, log)); // the first run is a baseline: the readiness probe's and the request above do not count
            var baselineAt = DateTimeOffset.UtcNow;

            // Seven and a half seconds without a request for the idle one, past -IdleFor 4s and past the neighbour probes;
            // the busy one is asked every half second.
            while (DateTimeOffset.UtcNow - baselineAt < TimeSpan.FromSeconds(7.5))
            {
                Assert.Equal("reaper", PreviewScenario.Get(pBusy.Port));
                Thread.Sleep(500);
            }
            var txAfter = engine.Engine.NetworkBytes(pIdle.ContainerId, default).Value.Transmitted;
            Assert.True(txAfter > txBefore, $"the idle preview transmitted nothing ({txBefore} -> {txAfter}): no neighbour traffic to prove the point with");
            log = new RecordingLog();
            var stopped = Reap(reaper, Mine, log);
            Assert.True(new[] { idle }.SequenceEqual(stopped.Select(p => p.AppId)), "stopped: " + string.Join(", ", stopped.Select(p => p.AppId)) + "\n" + string.Join("\n", log.Verbose));
            Assert.Null(engine.Find("dyad-app-" + idle));
            Assert.Contains(log.Verbose, m => m.Contains($"App {idle}: idle for", StringComparison.Ordinal));
            Assert.Contains(log.Verbose, m => m.Contains($"App {held}: 1 open connection(s) to its port", StringComparison.Ordinal));
            Assert.Contains(log.Verbose, m => m.Contains($"App {busy}: it accepted", StringComparison.Ordinal));

            // Later runs keep both: the open connection still counts, and the busy one still serves.
            for (var round = 0; round < 3; round++)
            {
                Assert.Equal("reaper", PreviewScenario.Get(pBusy.Port));
                Thread.Sleep(IdleFor / 2);
                Assert.Empty(Reap(reaper, Mine));
            }
            Assert.Equal("running", engine.Find("dyad-app-" + busy).State);
            Assert.Equal("running", engine.Find("dyad-app-" + held).State);
            Assert.False(_scenario.State.Peek().Allocations.ContainsKey(idle));
            Assert.Contains(_scenario.State.History(), e => e.Kind == PortEventKind.PreviewStopped && e.AppId == idle && e.Reason.StartsWith("idle for", StringComparison.Ordinal));
            var sample = _scenario.State.Peek().Activity[held];
            _scenario.State.AssertStoredOnItsLedger(); // issue 17 item 3: on an etcd row the reaper really ran on etcd
            Assert.Equal((ActivitySample.AcceptedSignal, (int?)1), (sample.Signal, sample.Attached));
        }

        [Fact]
        public void An_app_whose_container_the_engine_refuses_to_remove_is_reported_and_the_sweep_goes_on_with_the_others()
        {
            // Podman refuses to remove a container whose network another container shares ("has dependent containers"),
            // force or not; dockerd removes it. So this refusal is podman's.
            var engine = _scenario.Use("podman/file/feed-off");
            var refused = TestRun.App("rrefused"); // swept first: the state's apps go in ordinal order
            var other = TestRun.App("rsweep");
            var pRefused = _scenario.Launcher(engine).Start(_scenario.Request(refused, engine, 21736, 21739), NullOperationLog.Instance, default);
            _scenario.Launcher(engine).Start(_scenario.Request(other, engine, 21736, 21739), NullOperationLog.Instance, default);
            var dependent = engine.Run($"{TestRun.Prefix}rdependent", 0, cmd: new List<string> { "sleep", "300" }, networkMode: "container:" + pRefused.ContainerId);
            try
            {
                bool Mine(string id) => id == refused || id == other;
                var reaper = new IdleReaper(_scenario.Allocator(engine));
                var failures = new List<DyadPortsException>();
                Assert.Empty(reaper.Reap(TimeSpan.FromSeconds(1), Mine, (_, _) => true, true, false, new RecordingLog(), default, failures.Add)); // the baseline
                Thread.Sleep(TimeSpan.FromSeconds(2.5));
                var log = new RecordingLog();
                var stopped = reaper.Reap(TimeSpan.FromSeconds(1), Mine, (_, _) => true, true, false, log, default, failures.Add);

                Assert.True(new[] { other }.SequenceEqual(stopped.Select(p => p.AppId)), "stopped: " + string.Join(", ", stopped.Select(p => p.AppId)) + "\n" + string.Join("\n", log.Verbose));
                var failure = Assert.Single(failures);
                Assert.Equal(ErrorIds.EngineRequestFailed, failure.ErrorId);
                Assert.Equal(refused, failure.Target); // the app, not the engine's endpoint
                Assert.False(failure.IsTerminating);
                Assert.Contains("dependent", failure.Message, StringComparison.Ordinal);
                Assert.Null(engine.Find("dyad-app-" + other));
                Assert.NotNull(engine.Find("dyad-app-" + refused)); // the engine kept it
                Assert.False(_scenario.State.Peek().Allocations.ContainsKey(other));
            }
            finally
            {
                engine.Remove(dependent); // first: then the preview it depends on can go in the run's clean-up
            }
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void WhatIf_reports_the_idle_preview_and_creates_no_file_in_a_fresh_state_folder(string row)
        {
            var engine = _scenario.Use(row);
            var idle = TestRun.App("rwhatif");
            var preview = _scenario.Launcher(engine).Start(_scenario.Request(idle, engine, 21730, 21735), NullOperationLog.Instance, default);
            var reaper = new IdleReaper(_scenario.Allocator(engine));
            reaper.Reap(TimeSpan.FromSeconds(1), id => id == idle, (_, _) => true, true, false, new RecordingLog(), default); // the baseline
            Thread.Sleep(1500);

            // On the file, the same state in a fresh folder: only state.json, none of the lock files the start left
            // beside the first. On etcd, the same prefix: -WhatIf changes no key.
            using var fresh = new TempState();
            var location = _scenario.State.Location;
            if (!_scenario.State.OnEtcd)
            {
                File.Copy(_scenario.Temp.StatePath, fresh.StatePath);
                location = fresh.StatePath;
            }
            string Stored() => _scenario.State.OnEtcd ? _scenario.State.Stored() : File.ReadAllText(fresh.StatePath);
            var before = Stored();
            Environment.SetEnvironmentVariable("DYAD_PORTS_STATE", location);
            try
            {
                var vars = new Dictionary<string, object> { ["endpoint"] = engine.Endpoint, ["engine"] = engine.Name, ["app"] = idle };
                var result = _ps.Run("Stop-DyadPreview $app -IdleFor 00:00:01 -WhatIf -Verbose -EngineEndpoint $endpoint -Engine $engine -PassThru", vars);
                Assert.Null(result.AnyError);
                Assert.Empty(result.Output);
                Assert.Contains(result.Verbose, m => m.Contains($"App {idle}: idle for", StringComparison.Ordinal));
            }
            finally
            {
                Environment.SetEnvironmentVariable("DYAD_PORTS_STATE", null);
            }
            if (!_scenario.State.OnEtcd) Assert.Equal(new[] { "state.json" }, Directory.GetFileSystemEntries(fresh.Directory).Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal));
            Assert.Equal(before, Stored());
            Assert.Equal("running", engine.Find("dyad-app-" + idle).State);
            Assert.Equal(preview.ContainerId, engine.Find("dyad-app-" + idle).ID);
        }

        [Fact]
        public void Process_previews_are_judged_by_the_connections_to_their_port()
        {
            var busy = TestRun.App("pbusy");
            var idle = TestRun.App("pidle");
            var pBusy = _scenario.Launcher(null).Start(_scenario.Request(busy, null, 21740, 21745), NullOperationLog.Instance, default);
            var pIdle = _scenario.Launcher(null).Start(_scenario.Request(idle, null, 21740, 21745), NullOperationLog.Instance, default);
            try
            {
                bool Mine(string id) => id == busy || id == idle;
                var reaper = new IdleReaper(_scenario.Allocator(null));
                reaper.Reap(TimeSpan.FromSeconds(1), Mine, (_, _) => true, false, false, new RecordingLog(), default);
                for (var i = 0; i < 3; i++) { PreviewScenario.Get(pBusy.Port); Thread.Sleep(500); }
                var stopped = reaper.Reap(TimeSpan.FromSeconds(1), Mine, (_, _) => true, false, false, new RecordingLog(), default);
                Assert.Equal(new[] { idle }, stopped.Select(p => p.AppId));
                Assert.False(PreviewProcesses.IsAlive(new AllocationRecord { ProcessId = pIdle.ProcessId, ProcessStartedAt = pIdle.StartedAt }));
                Assert.True(PreviewProcesses.IsAlive(_scenario.State.Peek().Allocations[busy]));
            }
            finally
            {
                _scenario.Launcher(null).Stop(busy, false, false, NullOperationLog.Instance, default);
                _scenario.Launcher(null).Stop(idle, false, false, NullOperationLog.Instance, default);
            }
        }

        [Fact]
        public void A_process_preview_with_an_idle_open_connection_is_kept()
        {
            var held = TestRun.App("pheld");
            var pHeld = _scenario.Launcher(null).Start(_scenario.Request(held, null, 21746, 21749), NullOperationLog.Instance, default);
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, pHeld.Port);
                var reaper = new IdleReaper(_scenario.Allocator(null));
                reaper.Reap(TimeSpan.FromSeconds(1), id => id == held, (_, _) => true, false, false, new RecordingLog(), default);
                Thread.Sleep(1500);
                Assert.Empty(reaper.Reap(TimeSpan.FromSeconds(1), id => id == held, (_, _) => true, false, false, new RecordingLog(), default));
                Assert.True(PreviewProcesses.IsAlive(_scenario.State.Peek().Allocations[held]));
            }
            finally
            {
                _scenario.Launcher(null).Stop(held, false, false, NullOperationLog.Instance, default);
            }
        }
    }
}
