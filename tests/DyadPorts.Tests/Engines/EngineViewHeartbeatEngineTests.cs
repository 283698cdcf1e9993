using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using Docker.DotNet.Models;
using DyadPorts.Core.Engines;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>
    /// An engine view whose engine goes silent without closing anything (a remote host powered off, a split network, a
    /// hung engine: no event, no FIN) stops answering within its heartbeat bound, so allocations list again instead of
    /// reading a view that can no longer be fresh. The engine is reached through a proxy that then holds every request.
    /// A view whose engine still answers pings but not the inspect an event needs is behind, and stops answering within
    /// its freshness bound too. An event the stream never delivers is in the view after the quiet spell's catch-up, and
    /// a lone one after the spell's next catch-up. A container the process makes while the view lists (after the engine
    /// answered the list) is in the view's next read; a started container the view cannot inspect stops it answering; a relist
    /// inspects no created container the view described already. Ports 23010-23018 and 23020-23022.
    /// </summary>
    [Collection(EngineCollection.Name)]
    public sealed class EngineViewHeartbeatEngineTests
    {
        private readonly EngineFixture _engines;

        public EngineViewHeartbeatEngineTests(EngineFixture engines) => _engines = engines;

        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_view_whose_engine_goes_silent_stops_answering_within_its_heartbeat_bound(string name)
        {
            var engine = _engines.Get(name);
            ProxiedView.TriedAgainIfTheEngineEndedTheStream(_ => StopsAnsweringWhenItsEngineGoesSilent(engine));
        }

        /// <returns>False when the engine ended the view's stream before it went silent: the view was relisting, not live.</returns>
        private static bool StopsAnsweringWhenItsEngineGoesSilent(TestEngine engine)
        {
            using var through = new ProxiedView(engine);

            // Silent from here: the ping every HeartbeatInterval goes unanswered, and its 3 s timeout ends the view's
            // connection. A generous margin for a loaded machine; without the heartbeat the view stays live for good.
            var bound = ViewTiming.HeartbeatInterval + TimeSpan.FromSeconds(3) + TimeSpan.FromSeconds(4);
            through.Proxy.Freeze();
            var clock = Stopwatch.StartNew();
            var live = through.View.IsLive;
            if (through.EngineEndedStream) return false;
            Assert.True(live, "the view stopped answering before the engine went silent");
            while (through.View.IsLive && clock.Elapsed < bound + TimeSpan.FromSeconds(10)) Thread.Sleep(20);
            Assert.False(through.View.IsLive, $"the view still answers {clock.Elapsed.TotalSeconds:0.0} s after its engine went silent");
            Assert.True(clock.Elapsed <= bound, $"the view stopped answering {clock.Elapsed.TotalSeconds:0.0} s after its engine went silent, over the bound of {bound.TotalSeconds:0.0} s");
            return true;
        }

        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_view_whose_engine_goes_silent_during_a_catch_up_stops_answering_within_its_heartbeat_bound(string name)
        {
            var engine = _engines.Get(name);
            ProxiedView.TriedAgainIfTheEngineEndedTheStream(_ => StopsAnsweringWhenItsEngineGoesSilentDuringACatchUp(engine));
        }

        /// <returns>False when the engine ended the view's stream before it went silent: the view was relisting, not live.</returns>
        private static bool StopsAnsweringWhenItsEngineGoesSilentDuringACatchUp(TestEngine engine)
        {
            using var through = new ProxiedView(engine);

            // The quiet spell's catch-up (GET /events?...until=) goes unanswered, then everything does: a host powered off
            // right after the heartbeat sent it. The catch-up is bounded like a ping; unbounded, the heartbeat waits on it
            // for good and no ping ever ends the view's connection.
            through.Proxy.Hold(EngineRequestLines.CatchUp.IsMatch);
            var sent = Stopwatch.StartNew();
            // The quiet spell's first catch-up, or if that one passed before the hold, the spell's next.
            var reach = ViewTiming.QuietBeforeCatchUp + ViewTiming.HeartbeatInterval * 2 + ViewTiming.QuietCatchUpRepeat + TimeSpan.FromSeconds(5);
            while (through.Proxy.HeldRequests == 0 && sent.Elapsed < reach) Thread.Sleep(20);
            Assert.True(through.Proxy.HeldRequests > 0, $"no catch-up was held within {reach.TotalSeconds:0.0} s: the test would prove nothing");
            through.Proxy.Freeze();
            var clock = Stopwatch.StartNew();
            var live = through.View.IsLive;
            if (through.EngineEndedStream) return false;
            Assert.True(live, "the view stopped answering before its engine went silent");
            var bound = ViewTiming.CatchUpWindow + ContainerEngine.PingTimeout + TimeSpan.FromSeconds(4);
            while (through.View.IsLive && clock.Elapsed < bound + TimeSpan.FromSeconds(10)) Thread.Sleep(20);
            Assert.False(through.View.IsLive, $"the view still answers {clock.Elapsed.TotalSeconds:0.0} s after its engine went silent during a catch-up");
            Assert.True(clock.Elapsed <= bound, $"the view stopped answering {clock.Elapsed.TotalSeconds:0.0} s after its engine went silent during a catch-up, over the bound of {bound.TotalSeconds:0.0} s");
            return true;
        }

        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_container_the_process_makes_while_the_view_lists_is_in_the_views_next_read(string name)
        {
            var engine = _engines.Get(name);
            var made = TestRun.App("view-touched-while-listing");
            string id = null;
            try
            {
                // Its events never reach the view's stream: only the process's own word (Touched) can bring it in at once.
                using var through = new ProxiedView(engine, proxy =>
                {
                    proxy.DropFromEventStreams(line => line.Contains(made, StringComparison.Ordinal));
                });
                // No catch-up is answered either: only the process's touch can bring the container in.
                through.Proxy.Hold(EngineRequestLines.CatchUp.IsMatch);
                through.Proxy.DelayAnswers(EngineRequestLines.List.IsMatch);
                through.View.Reconnect();
                var clock = Stopwatch.StartNew();
                while (through.Proxy.DelayedAnswers == 0 && clock.Elapsed < TimeSpan.FromSeconds(15)) Thread.Sleep(10);
                Assert.True(through.Proxy.DelayedAnswers > 0, "the view did not list again after its reconnect: the test would prove nothing");
                Assert.False(through.View.IsLive, "the view answers while its list is held");

                // The engine has answered the list; the process now makes a container and tells the view, as the session's
                // client does, before the view has heard the list.
                id = engine.Run(made, 23014, start: false);
                through.View.Touched(id, removed: false);
                through.Proxy.ReleaseAnswers();
                clock.Restart();
                EngineSnapshot read = null;
                while ((read = through.View.TryRead(default)) == null && clock.Elapsed < TimeSpan.FromSeconds(15)) Thread.Sleep(10);
                Assert.NotNull(read);
                Assert.Contains(read.Containers, c => c.Id == id);
                // Its create was in the stream and taken out of it: the process's touch, not the stream, brought it in.
                clock.Restart();
                while (through.Proxy.DroppedEvents == 0 && clock.Elapsed < TimeSpan.FromSeconds(5)) Thread.Sleep(10);
                Assert.True(through.Proxy.DroppedEvents > 0, "no event of the container was taken out of the stream: the test would prove nothing");
            }
            finally
            {
                if (id != null) engine.Remove(id);
            }
        }

        /// <summary>
        /// Created containers the view heard of and described (an inspect each, as their create events came) are not
        /// inspected again when the view lists again: a relist (a reconnect, or a catch-up that returned as many events as
        /// dockerd keeps) costs one list, not one inspect per created container. At K=1,000 on docker a relist that
        /// inspected every created container again took the view out of service for hundreds of calls.
        /// </summary>
        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_relist_inspects_no_created_container_the_view_described_already(string name)
        {
            var engine = _engines.Get(name);
            ProxiedView.TriedAgainIfTheEngineEndedTheStream(attempt => RelistsWithoutInspectingWhatItDescribed(engine, attempt));
        }

        /// <returns>
        /// False when the engine ended the view's stream before the view had described the new containers: its relist
        /// then brought them in from the list alone, and the test would prove nothing.
        /// </returns>
        private static bool RelistsWithoutInspectingWhatItDescribed(TestEngine engine, int attempt)
        {
            var ids = new List<string>();
            try
            {
                using var through = new ProxiedView(engine);
                for (var i = 0; i < 3; i++) ids.Add(engine.Run(TestRun.App($"view-described-{attempt}-{i}"), 23016 + i, start: false));
                through.WaitFor(ViewTiming.FreshnessBound * 10, s => ids.All(id => s.Containers.Any(c => c.Id == id && c.Ports.Any(p => p.HostPort == 23016 + ids.IndexOf(id)))));
                var described = through.Proxy.Requests.Count(line => EngineRequestLines.Inspect.IsMatch(line) && ids.Any(id => line.Contains(id, StringComparison.Ordinal)));
                if (through.EngineEndedStream) return false;
                Assert.True(described >= ids.Count, $"the view inspected the new containers {described} time(s): the test would prove nothing");
                var lists = through.View.Lists;
                var seen = through.Proxy.Requests.Count;

                through.View.Reconnect();
                var clock = Stopwatch.StartNew();
                while ((through.View.Lists <= lists || !through.View.IsLive) && clock.Elapsed < TimeSpan.FromSeconds(30)) Thread.Sleep(20);

                Assert.True(through.View.Lists > lists && through.View.IsLive, "the view did not list again after its reconnect");
                var after = through.Proxy.Requests.Skip(seen).ToList();
                Assert.Contains(after, EngineRequestLines.List.IsMatch);
                Assert.DoesNotContain(after, line => EngineRequestLines.Inspect.IsMatch(line) && ids.Any(id => line.Contains(id, StringComparison.Ordinal)));
                var read = through.View.TryRead(default);
                Assert.NotNull(read);
                for (var i = 0; i < ids.Count; i++) Assert.Contains(read.Containers, c => c.Id == ids[i] && c.Ports.Any(p => p.HostPort == 23016 + i));
                return true;
            }
            finally
            {
                foreach (var id in ids) engine.Remove(id);
            }
        }

        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_view_whose_engine_does_not_answer_an_events_inspect_stops_answering_within_its_freshness_bound(string name)
        {
            var engine = _engines.Get(name);
            ProxiedView.TriedAgainIfTheEngineEndedTheStream(attempt => StopsAnsweringBehindAnUnansweredInspect(engine, attempt));
        }

        /// <returns>
        /// False when the engine ended the view's stream meanwhile: the view then stops answering for its relist (and is
        /// not live), not for the inspect it waits on.
        /// </returns>
        private static bool StopsAnsweringBehindAnUnansweredInspect(TestEngine engine, int attempt)
        {
            using var through = new ProxiedView(engine);

            // From here the engine answers pings, lists and the stream, but never an inspect: the create event of a
            // container another client makes arrives, and the view's loop waits on its inspect.
            through.Proxy.Hold(EngineRequestLines.Inspect.IsMatch);
            var id = engine.Run(TestRun.App($"view-behind-{attempt}"), 23010, start: false);
            try
            {
                var clock = Stopwatch.StartNew();
                var bound = ViewTiming.FreshnessBound * 3;
                EngineSnapshot read;
                while ((read = through.View.TryRead(default)) != null && clock.Elapsed < bound + TimeSpan.FromSeconds(5)) Thread.Sleep(20);
                var stopped = clock.Elapsed;
                var live = through.View.IsLive;
                if (through.EngineEndedStream) return false;
                Assert.True(read == null, $"the view still answers {stopped.TotalSeconds:0.0} s after a create it cannot inspect, without it: {read?.Containers.Any(c => c.Id == id)}");
                Assert.True(stopped <= bound, $"the view stopped answering {stopped.TotalSeconds:0.0} s after the create, over {bound.TotalSeconds:0.0} s");
                Assert.True(live, "the heartbeat ended the view: the engine answered pings, so only the freshness guard should have");
                return true;
            }
            finally
            {
                engine.Remove(id);
            }
        }

        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_view_that_cannot_inspect_a_started_container_it_has_stops_answering_within_its_freshness_bound(string name)
        {
            var engine = _engines.Get(name);
            using var through = new ProxiedView(engine);
            var id = engine.Run(TestRun.App("view-start-behind"), 23015, start: false);
            try
            {
                var clock = Stopwatch.StartNew();
                while (through.View.TryRead(default)?.Containers.Any(c => c.Id == id) != true && clock.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(20);
                Assert.True(through.View.TryRead(default)?.Containers.Any(c => c.Id == id) == true, "the view never had the created container: the test would prove nothing");

                // Another client starts it: a start may give a container host ports it did not hold (-P), and the view
                // cannot inspect it. It has the container, but not as it is now: it must stop answering, not answer without the ports.
                through.Proxy.Hold(EngineRequestLines.Inspect.IsMatch);
                engine.Start(id);
                clock.Restart();
                var bound = ViewTiming.FreshnessBound * 3;
                EngineSnapshot read;
                while ((read = through.View.TryRead(default)) != null && clock.Elapsed < bound + TimeSpan.FromSeconds(5)) Thread.Sleep(20);
                Assert.True(read == null, $"the view still answers {clock.Elapsed.TotalSeconds:0.0} s after a start it cannot inspect");
                Assert.True(clock.Elapsed <= bound, $"the view stopped answering {clock.Elapsed.TotalSeconds:0.0} s after the start, over {bound.TotalSeconds:0.0} s");
            }
            finally
            {
                engine.Remove(id);
            }
        }

        /// <summary>
        /// Podman 4.3's stream was seen holding back the last event before a quiet spell (docs/ARCHITECTURE.md, "The engine
        /// view"). Here the proxy takes one container's events out of the stream for good. The view's first quiet spell
        /// (and its catch-up) passes before the container is made; seconds later a rename of another container is heard,
        /// and the next quiet spell's catch-up, which covers everything since the last one, brings the missing create;
        /// then the same for its removal. No list in between.
        /// </summary>
        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void An_event_the_stream_never_delivers_is_in_the_view_after_the_next_quiet_spells_catch_up(string name)
        {
            var engine = _engines.Get(name);
            ProxiedView.TriedAgainIfTheEngineEndedTheStream(attempt => CaughtUpAfterNextQuietSpell(engine, attempt));
        }

        private static bool CaughtUpAfterNextQuietSpell(TestEngine engine, int attempt)
        {
            var missing = TestRun.App($"view-catchup-missing-{attempt}");
            var heard = TestRun.App($"view-catchup-heard-{attempt}");
            string heardId = null, missingId = null;
            try
            {
                heardId = engine.Run(heard, 23012, start: false);
                using var through = new ProxiedView(engine, proxy => proxy.DropFromEventStreams(line => line.Contains(missing, StringComparison.Ordinal)));
                // Quiet, then the catch-up at the next heartbeat (up to CatchUpWindow ahead), then the container's inspect:
                // twice that, and room for a loaded machine.
                var bound = (ViewTiming.QuietBeforeCatchUp + ViewTiming.HeartbeatInterval + ViewTiming.CatchUpWindow) * 2 + TimeSpan.FromSeconds(2);
                // Past the first quiet spell's catch-up, and then far more than a second between the missing event and the next one heard.
                var apart = ViewTiming.QuietBeforeCatchUp + ViewTiming.HeartbeatInterval + ViewTiming.CatchUpWindow + TimeSpan.FromSeconds(1);
                var renames = 0;
                void Hear()
                {
                    Thread.Sleep(apart);
                    engine.Client.Containers.RenameContainerAsync(heardId, new ContainerRenameParameters { NewName = heard + "-" + ++renames }, default).GetAwaiter().GetResult();
                }

                Thread.Sleep(apart);
                if (!AssertCaughtUp(through, "create", () => missingId = engine.Run(missing, 23011, start: false), Hear, s => s.Containers.Any(c => c.Id == missingId), bound)) return false;
                var removed = AssertCaughtUp(through, "removal", () => engine.Remove(missingId), Hear, s => s.Containers.All(c => c.Id != missingId), bound);
                missingId = null;
                return removed;
            }
            finally
            {
                if (missingId != null) engine.Remove(missingId);
                if (heardId != null) engine.Remove(heardId);
            }
        }

        /// <summary>
        /// As above, with nothing heard after the missing events: the quiet spell's first catch-up has passed before the
        /// container is made, so only the spell's next catch-up can bring a lone create, and then a lone removal, that the
        /// stream never delivers. The test reads the view all along, so that catch-up repeats at every heartbeat
        /// (<see cref="ViewTiming.ReadCatchUpRepeat"/>), not every <see cref="ViewTiming.QuietCatchUpRepeat"/>: the bound
        /// is well under the latter. No list in between.
        /// </summary>
        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_lone_event_the_stream_never_delivers_is_in_the_view_after_the_quiet_spells_next_catch_up(string name)
        {
            var engine = _engines.Get(name);
            ProxiedView.TriedAgainIfTheEngineEndedTheStream(attempt => LoneEventCaughtUp(engine, attempt));
        }

        private static bool LoneEventCaughtUp(TestEngine engine, int attempt)
        {
            var missing = TestRun.App($"view-lone-missing-{attempt}");
            string missingId = null;
            try
            {
                using var through = new ProxiedView(engine, proxy => proxy.DropFromEventStreams(line => line.Contains(missing, StringComparison.Ordinal)));
                // The repeat of a view being read, the heartbeat (and its ping) that starts the catch-up, the catch-up's
                // window, the container's inspect, and room for a loaded machine: still well under the idle repeat alone.
                var bound = ViewTiming.ReadCatchUpRepeat + ViewTiming.HeartbeatInterval + ViewTiming.CatchUpWindow + TimeSpan.FromSeconds(3);
                Assert.True(bound < ViewTiming.QuietCatchUpRepeat, "the bound would not tell the read repeat from the idle one");
                Thread.Sleep(ViewTiming.QuietBeforeCatchUp + ViewTiming.HeartbeatInterval + ViewTiming.CatchUpWindow + TimeSpan.FromSeconds(1));

                if (!AssertCaughtUp(through, "create", () => missingId = engine.Run(missing, 23013, start: false), null, s => s.Containers.Any(c => c.Id == missingId), bound)) return false;
                var removed = AssertCaughtUp(through, "removal", () => engine.Remove(missingId), null, s => s.Containers.All(c => c.Id != missingId), bound);
                missingId = null;
                return removed;
            }
            finally
            {
                if (missingId != null) engine.Remove(missingId);
            }
        }

        /// <summary>
        /// A stream that never goes quiet (here a rename every 200 ms, as a container restarting in a loop on a shared host
        /// would keep it) has no quiet spell to catch up in: a create it never delivers is in the view all the same, by the
        /// catch-up every <see cref="ViewTiming.BusyCatchUpRepeat"/>. No list in between.
        /// </summary>
        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void An_event_the_stream_never_delivers_is_in_the_view_while_the_stream_never_goes_quiet(string name)
        {
            var engine = _engines.Get(name);
            ProxiedView.TriedAgainIfTheEngineEndedTheStream(attempt => CaughtUpWhileBusy(engine, attempt));
        }

        private static bool CaughtUpWhileBusy(TestEngine engine, int attempt)
        {
            var missing = TestRun.App($"view-busy-missing-{attempt}");
            var busy = TestRun.App($"view-busy-{attempt}");
            string busyId = null, missingId = null;
            try
            {
                busyId = engine.Run(busy, 23020, start: false);
                using var through = new ProxiedView(engine, proxy => proxy.DropFromEventStreams(line => line.Contains(missing, StringComparison.Ordinal)));
                using var renames = new BusyRenames(engine, busyId, busy);
                // The repeat, then the heartbeat that finds it due, the catch-up's window, the inspect, and room for a loaded machine.
                var bound = ViewTiming.BusyCatchUpRepeat + ViewTiming.HeartbeatInterval + ViewTiming.CatchUpWindow + TimeSpan.FromSeconds(3);
                var renamesBefore = renames.Count;
                if (!AssertCaughtUp(through, "create", () => missingId = engine.Run(missing, 23021, start: false), null, s => s.Containers.Any(c => c.Id == missingId), bound)) return false;
                // The stream was busy all along: the renames never stopped (a failed one ends them).
                Assert.False(renames.Stopped, $"the renames stopped after {renames.Count - renamesBefore}: the stream may have gone quiet ({renames.Failure})");
                return true;
            }
            finally
            {
                if (missingId != null) engine.Remove(missingId);
                if (busyId != null) engine.Remove(busyId);
            }
        }

        /// <summary>
        /// dockerd answers a catch-up's since= from its last 256 events: a catch-up that returns that many may miss what
        /// it was asked for, so the view lists again rather than trust it. Here a burst of 300 renames, which the stream
        /// delivers, lies inside the next quiet spell's catch-up.
        /// </summary>
        [Fact]
        public async System.Threading.Tasks.Task A_catch_up_as_long_as_dockerds_buffer_makes_the_view_list_again()
        {
            var engine = _engines.Get("docker");
            var busy = TestRun.App("view-burst");
            string busyId = null;
            try
            {
                busyId = engine.Run(busy, 23022, start: false);
                using var through = new ProxiedView(engine);
                Thread.Sleep(ViewTiming.QuietBeforeCatchUp + ViewTiming.HeartbeatInterval + ViewTiming.CatchUpWindow + TimeSpan.FromSeconds(1)); // past the first quiet catch-up
                var lists = through.View.Lists;
                for (var i = 0; i < ViewTiming.CatchUpMost + 44; i++)
                {
                    await engine.Client.Containers.RenameContainerAsync(busyId, new ContainerRenameParameters { NewName = busy + "-" + (i % 2) }, default);
                }
                var clock = Stopwatch.StartNew();
                var bound = ViewTiming.QuietBeforeCatchUp + ViewTiming.HeartbeatInterval * 2 + ViewTiming.CatchUpWindow + TimeSpan.FromSeconds(5);
                while (through.View.Lists == lists && clock.Elapsed < bound) Thread.Sleep(50);
                Assert.True(through.View.Lists > lists, $"the view did not list again within {bound.TotalSeconds:0.0} s of a burst of {ViewTiming.CatchUpMost + 44} events");
                // Listed again, it answers with the container as it is now.
                var shown = through.WaitFor(TimeSpan.FromSeconds(10), v => v.Containers.Any(c => c.Id == busyId && c.Name == busy + "-1"));
                Assert.True(shown <= TimeSpan.FromSeconds(10), "the view did not come back with the container's last name");
            }
            finally
            {
                if (busyId != null) engine.Remove(busyId);
            }
        }

        /// <summary>
        /// Makes a <paramref name="change"/> whose events the proxy takes out of the stream, then <paramref name="then"/>
        /// (something the view hears, or nothing), and asserts that the view shows the change within
        /// <paramref name="bound"/>, that the proxy really dropped an event of it, and that the view did not list meanwhile.
        /// </summary>
        /// <returns>False, having asserted nothing, when the engine ended the view's stream meanwhile: then the view rightly
        /// listed again, and the try proves nothing (<see cref="ProxiedView.TriedAgainIfTheEngineEndedTheStream(Func{int, bool})"/>).</returns>
        private static bool AssertCaughtUp(ProxiedView through, string what, Action change, Action then, Func<EngineSnapshot, bool> done, TimeSpan bound)
        {
            var lists = through.View.Lists;
            var calls = through.View.Calls;
            var notLive = through.NotLiveReads;
            var dropped = through.Proxy.DroppedEvents;
            change();
            then?.Invoke();
            var shown = through.WaitFor(bound, done);
            var after = then == null ? "it" : "the next event heard";
            // A catch-up may show the change before the stream's own copy of its event reaches the proxy (podman's stream
            // polls its file every 250 ms): wait a little for the proxy to take that copy out.
            var dropWait = Stopwatch.StartNew();
            while (through.Proxy.DroppedEvents <= dropped && dropWait.Elapsed < TimeSpan.FromSeconds(3)) Thread.Sleep(20);
            if (through.EngineEndedStream) return false;
            Assert.True(through.Proxy.DroppedEvents > dropped, $"the proxy took no {what} event out of the stream: the test would prove nothing");
            Assert.True(shown <= bound, $"a {what} the stream never delivered is not in the view {shown.TotalSeconds:0.0} s after {after} (bound {bound.TotalSeconds:0.0} s; " +
                $"meanwhile the view made {through.View.Calls - calls} call(s) and {through.View.Lists - lists} list(s), did not answer {through.NotLiveReads - notLive} read(s), and is {(through.View.IsLive ? "live" : "not live")})");
            Assert.True(through.View.Lists == lists, $"the view listed again ({through.View.Lists - lists} time(s)): a list, not a catch-up, showed the {what}");
            return true;
        }
    }
}
