using System;
using System.Diagnostics;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
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
    /// its freshness bound too. Port 23010.
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
            using var proxy = new HoldingEngineProxy(engine.Endpoint);
            using var client = new ContainerEngine(proxy.Endpoint, engine.Kind);
            using var views = new EngineViews();
            ViewSettler.MakeLive(views, client, engine.Kind);

            // Silent from here: the ping every HeartbeatInterval goes unanswered, and its 3 s timeout ends the view's
            // connection. A generous margin for a loaded machine; without the heartbeat the view stays live for good.
            var bound = EngineView.HeartbeatInterval + TimeSpan.FromSeconds(3) + TimeSpan.FromSeconds(4);
            proxy.Freeze();
            var clock = Stopwatch.StartNew();
            Assert.True(views.IsLive(proxy.Endpoint), "the view stopped answering before the engine went silent");
            while (views.IsLive(proxy.Endpoint) && clock.Elapsed < bound + TimeSpan.FromSeconds(10)) Thread.Sleep(20);
            Assert.False(views.IsLive(proxy.Endpoint), $"the view still answers {clock.Elapsed.TotalSeconds:0.0} s after its engine went silent");
            Assert.True(clock.Elapsed <= bound, $"the view stopped answering {clock.Elapsed.TotalSeconds:0.0} s after its engine went silent, over the bound of {bound.TotalSeconds:0.0} s");
        }

        /// <summary>An inspect (GET /containers/{id}/json), not the list (GET /containers/json).</summary>
        private static readonly Regex InspectLine = new Regex(@"^GET /[^ ]*containers/[^/ ?]+/json", RegexOptions.CultureInvariant);

        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_view_whose_engine_does_not_answer_an_events_inspect_stops_answering_within_its_freshness_bound(string name)
        {
            var engine = _engines.Get(name);
            using var proxy = new HoldingEngineProxy(engine.Endpoint);
            using var client = new ContainerEngine(proxy.Endpoint, engine.Kind);
            using var views = new EngineViews();
            ViewSettler.MakeLive(views, client, engine.Kind);
            var view = views.For(proxy.Endpoint);

            // From here the engine answers pings, lists and the stream, but never an inspect: the create event of a
            // container another client makes arrives, and the view's loop waits on its inspect.
            proxy.Hold(InspectLine.IsMatch);
            var id = engine.Run(TestRun.App("view-behind"), 23010, start: false);
            try
            {
                var clock = Stopwatch.StartNew();
                var bound = EngineView.FreshnessBound * 3;
                EngineSnapshot read;
                while ((read = view.TryRead(default)) != null && clock.Elapsed < bound + TimeSpan.FromSeconds(5)) Thread.Sleep(20);
                Assert.True(read == null, $"the view still answers {clock.Elapsed.TotalSeconds:0.0} s after a create it cannot inspect, without it: {read?.Containers.Any(c => c.Id == id)}");
                Assert.True(clock.Elapsed <= bound, $"the view stopped answering {clock.Elapsed.TotalSeconds:0.0} s after the create, over {bound.TotalSeconds:0.0} s");
                Assert.True(view.IsLive, "the heartbeat ended the view: the engine answered pings, so only the freshness guard should have");
            }
            finally
            {
                engine.Remove(id);
            }
        }
    }
}
