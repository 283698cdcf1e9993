using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet.Models;
using DyadPorts.Core.Engines;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>
    /// An engine whose clock is not this machine's (a podman machine or Docker Desktop VM after the host slept, a remote
    /// host without NTP). The view's since= and its catch-ups' until= are read by the engine against its own clock: on
    /// this machine's, podman drops every live event of a view whose engine lags (since= lies in its future), and a
    /// catch-up waits out the lag until its bound ends the view's connection. The engines here keep this machine's time,
    /// so the view is given a clock set off it instead (<see cref="ShiftedTime"/>): to the view, the same thing. Ports 23016-23018.
    /// </summary>
    [Collection(EngineCollection.Name)]
    public sealed class EngineViewClockEngineTests
    {
        private static readonly Regex StreamSince = new Regex(@"^GET /(?:v[0-9.]+/)?events\?(?![^ ]*until=)[^ ]*since=([0-9]+)", RegexOptions.CultureInvariant);
        private static readonly Regex InfoRequest = new Regex(@"^GET /(?:v[0-9.]+/)?info[? ]", RegexOptions.CultureInvariant);
        private readonly EngineFixture _engines;

        public static readonly IEnumerable<object[]> RefusedOrHeld =
            TestEngine.Both.SelectMany(e => new[] { new object[] { e[0], "refused" }, new object[] { e[0], "held" } }).ToList();

        public EngineViewClockEngineTests(EngineFixture engines) => _engines = engines;

        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_view_of_an_engine_whose_clock_lags_a_minute_sees_every_change_and_stays_live_through_its_catch_ups(string name)
        {
            var engine = _engines.Get(name);
            ProxiedView.TriedAgainIfTheEngineEndedTheStream(attempt => SeesEveryChangeOfALaggingEngine(engine, attempt));
        }

        /// <returns>False when the engine ended the view's stream meanwhile: the view's list proves nothing then.</returns>
        private static bool SeesEveryChangeOfALaggingEngine(TestEngine engine, int attempt)
        {
            var app = TestRun.App($"view-clock-lags-{attempt}");
            string id = null;
            try
            {
                using var through = new ProxiedView(engine, time: new ShiftedTime(TimeSpan.FromMinutes(1)));
                var since = through.Proxy.Requests.Select(r => StreamSince.Match(r)).First(m => m.Success).Groups[1].Value;
                var sent = DateTimeOffset.FromUnixTimeSeconds(long.Parse(since, CultureInfo.InvariantCulture));
                Assert.InRange(sent, DateTimeOffset.UtcNow - TimeSpan.FromSeconds(30), DateTimeOffset.UtcNow);
                var lists = through.View.Lists;

                id = engine.Run(app, 23016, start: false);
                var shown = through.WaitFor(ViewSettler.Bound, s => s.Containers.Any(c => c.Id == id));
                if (through.EngineEndedStream) return false;
                Assert.True(shown <= ViewSettler.Bound, $"a container made {shown.TotalSeconds:0.0} s ago is not in the view of an engine whose clock lags (bound {ViewSettler.Bound.TotalSeconds:0.0} s)");

                // A quiet spell, its catch-up (up to CatchUpWindow ahead, on the engine's clock) and the catch-up's bound.
                Thread.Sleep(ViewTiming.QuietBeforeCatchUp + ViewTiming.HeartbeatInterval * 2 + ViewTiming.CatchUpWindow + ContainerEngine.PingTimeout + TimeSpan.FromSeconds(1));
                if (through.EngineEndedStream) return false;
                Assert.True(through.View.IsLive, "the view stopped answering over a quiet spell: its catch-up outlasted its bound");
                Assert.True(through.View.Lists == lists, $"the view listed again ({through.View.Lists - lists} time(s)): a catch-up outlasted its bound and ended the connection");

                engine.Remove(id);
                var gone = through.WaitFor(ViewSettler.Bound, s => s.Containers.All(c => c.Id != id));
                id = null;
                Assert.True(gone <= ViewSettler.Bound, $"a container removed {gone.TotalSeconds:0.0} s ago is still in the view of an engine whose clock lags");
                return true;
            }
            finally
            {
                if (id != null) engine.Remove(id);
            }
        }

        /// <summary>
        /// An engine that does not say its time: a socket proxy that refuses <c>GET /info</c> (403), or an engine that does not
        /// answer it within a ping's bound. The view takes it to keep this machine's time, goes live, sees another client's
        /// changes, and judges no event ahead of a clock it does not know (it would otherwise connect again at each).
        /// </summary>
        [Theory]
        [MemberData(nameof(RefusedOrHeld))]
        public void A_view_of_an_engine_that_does_not_say_its_time_goes_live_on_this_machines_and_sees_every_change(string name, string info)
        {
            var engine = _engines.Get(name);
            ProxiedView.TriedAgainIfTheEngineEndedTheStream(attempt => SeesEveryChangeOfAnUntoldClock(engine, info, attempt));
        }

        /// <returns>False when the engine ended the view's stream meanwhile: the view's list proves nothing then.</returns>
        private static bool SeesEveryChangeOfAnUntoldClock(TestEngine engine, string info, int attempt)
        {
            var app = TestRun.App($"view-clock-untold-{attempt}");
            string id = null;
            try
            {
                using var through = new ProxiedView(engine, proxy =>
                {
                    if (info == "held") proxy.Hold(InfoRequest.IsMatch);
                    else proxy.Refuse(InfoRequest.IsMatch);
                }, new ShiftedTime(TimeSpan.FromMinutes(-1))); // this machine a minute behind: every event would look ahead of a clock taken as known
                Assert.Contains(through.Proxy.Requests, InfoRequest.IsMatch);
                var lists = through.View.Lists;

                id = engine.Run(app, 23019, start: false);
                var shown = through.WaitFor(ViewSettler.Bound, s => s.Containers.Any(c => c.Id == id));
                if (through.EngineEndedStream) return false;
                Assert.True(shown <= ViewSettler.Bound, $"a container made {shown.TotalSeconds:0.0} s ago is not in the view of an engine that did not say its time (bound {ViewSettler.Bound.TotalSeconds:0.0} s)");
                Assert.True(through.View.IsLive, "the view stopped answering after an event");
                Assert.True(through.View.Lists == lists, $"the view listed again ({through.View.Lists - lists} time(s)): an event was judged ahead of a clock the engine never told");
                return true;
            }
            finally
            {
                if (id != null) engine.Remove(id);
            }
        }

        /// <summary>
        /// The engine's clock is set a minute ahead while the view follows it. Its catch-ups (up to what the view took for the
        /// engine's now) would then end before anything they are for: a create the stream never delivers would never be in
        /// the view. The next event heard, stamped a minute ahead, makes the view connect again, read the clock again and list.
        /// A list after the engine itself ended the stream would pass for that one: such a try is made again, once.
        /// </summary>
        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public Task A_view_whose_engines_clock_jumps_ahead_connects_again_at_the_next_event_and_lists(string name)
        {
            var engine = _engines.Get(name);
            return ProxiedView.TriedAgainIfTheEngineEndedTheStream(attempt => ListsAfterTheClockJumps(engine, attempt));
        }

        /// <returns>False when the engine ended the view's stream meanwhile: the view's list proves nothing then.</returns>
        private static async Task<bool> ListsAfterTheClockJumps(TestEngine engine, int attempt)
        {
            var missing = TestRun.App($"view-clock-missing-{attempt}");
            var heard = TestRun.App($"view-clock-heard-{attempt}");
            string heardId = null, missingId = null;
            var time = new ShiftedTime(TimeSpan.Zero);
            try
            {
                heardId = engine.Run(heard, 23017, start: false);
                using var through = new ProxiedView(engine, proxy => proxy.DropFromEventStreams(line => line.Contains(missing, StringComparison.Ordinal)), time);
                var lists = through.View.Lists;
                var dropped = through.Proxy.DroppedEvents;

                time.Shift = -TimeSpan.FromMinutes(1); // this machine a minute behind: the engine's clock a minute ahead of the view's reading
                missingId = engine.Run(missing, 23018, start: false);
                await engine.Client.Containers.RenameContainerAsync(heardId, new ContainerRenameParameters { NewName = heard + "-renamed" }, default).ConfigureAwait(false);

                var bound = ViewSettler.Bound + TimeSpan.FromSeconds(5); // the retry wait, the clock read and a list on a loaded machine
                var shown = through.WaitFor(bound, s => s.Containers.Any(c => c.Id == missingId));
                // The create's event may reach a stream only after the list showed it (podman reads its events file every 250 ms).
                var waited = System.Diagnostics.Stopwatch.StartNew();
                while (through.Proxy.DroppedEvents <= dropped && waited.Elapsed < bound) Thread.Sleep(20);
                if (through.EngineEndedStream) return false;
                Assert.True(through.Proxy.DroppedEvents > dropped, "the proxy took no event of the missing container out of the stream: the test would prove nothing");
                Assert.True(shown <= bound, $"a create the stream never delivered is not in the view {shown.TotalSeconds:0.0} s after the engine's clock jumped ahead (bound {bound.TotalSeconds:0.0} s)");
                Assert.True(through.View.Lists > lists, "the view did not list again: something else than a new connection showed the create");
                return true;
            }
            finally
            {
                if (missingId != null) engine.Remove(missingId);
                if (heardId != null) engine.Remove(heardId);
            }
        }
    }
}
