using System;
using System.Diagnostics;
using System.Globalization;
using System.Threading;
using DyadPorts.Core.Agent;
using DyadPorts.Core.Engines;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary>
    /// The agent's endpoint slots (<see cref="EngineAgent.MostEndpoints"/>): a long-lived agent asked about an endpoint once
    /// (a typo, a host gone) does not keep its slot past its view's retirement, so it does not end up declining every new
    /// endpoint until it restarts. Endpoints here are sockets nobody listens at: no engine is asked, their views never go
    /// live, and they retire after the short bound the test gives.
    /// </summary>
    public sealed class AgentEndpointsTests : IDisposable
    {
        // Long enough that the 33 answers before the first wait end well inside it on a loaded machine.
        private static readonly TimeSpan Bound = TimeSpan.FromSeconds(3);
        private readonly TempState _temp = new TempState();

        public void Dispose() => _temp.Dispose();

        private static AgentRequest Ask(int n) => new AgentRequest
        {
            Endpoint = "unix:///nonexistent/dyadports-slot-" + n.ToString(CultureInfo.InvariantCulture) + ".sock",
            Kind = EngineKind.Docker,
        };

        [Fact]
        public void A_retired_endpoints_slot_is_given_to_a_new_endpoint_and_a_live_one_keeps_its_own()
        {
            using var views = new EngineViews(retireAfter: Bound, lent: true);
            using var agent = new EngineAgent(System.IO.Path.Combine(_temp.Directory, "agent.sock"), views);
            for (var n = 0; n < EngineAgent.MostEndpoints; n++)
            {
                Assert.Contains("is not live now", agent.Answer(Ask(n), CancellationToken.None).Reason, StringComparison.Ordinal);
            }
            // Every slot taken by a view that has not retired yet: a new endpoint is declined, an old one is not.
            Assert.Contains($"it follows {EngineAgent.MostEndpoints} endpoints already", agent.Answer(Ask(EngineAgent.MostEndpoints), CancellationToken.None).Reason, StringComparison.Ordinal);
            Assert.Contains("is not live now", agent.Answer(Ask(0), CancellationToken.None).Reason, StringComparison.Ordinal);

            // Once they retired (unread for the bound), their slots go to new endpoints.
            var waited = Stopwatch.StartNew();
            while (!AllRetired(views) && waited.Elapsed < TimeSpan.FromSeconds(30)) Thread.Sleep(100);
            Assert.True(AllRetired(views), $"the views did not retire within 30 s of a {Bound.TotalSeconds} s bound");
            Assert.Contains("is not live now", agent.Answer(Ask(EngineAgent.MostEndpoints), CancellationToken.None).Reason, StringComparison.Ordinal);
            Assert.Single(views.Started); // the gone ones were let go, the new one follows
        }

        [Fact]
        public void An_endpoint_followed_as_one_kind_is_declined_to_an_asker_that_says_another()
        {
            using var views = new EngineViews(retireAfter: Bound, lent: true);
            using var agent = new EngineAgent(System.IO.Path.Combine(_temp.Directory, "agent.sock"), views);
            Assert.Contains("is not live now", agent.Answer(Ask(1), CancellationToken.None).Reason, StringComparison.Ordinal);
            var podman = new AgentRequest { Endpoint = Ask(1).Endpoint, Kind = EngineKind.Podman };
            var declined = agent.Answer(podman, CancellationToken.None);
            Assert.Null(declined.Containers);
            Assert.Contains("as a Docker engine, and this asker says Podman", declined.Reason, StringComparison.Ordinal);

            // Once that view retired, the endpoint is followed anew, as the next asker says.
            var waited = Stopwatch.StartNew();
            while (!AllRetired(views) && waited.Elapsed < TimeSpan.FromSeconds(30)) Thread.Sleep(100);
            Assert.True(AllRetired(views));
            Assert.Contains("is not live now", agent.Answer(podman, CancellationToken.None).Reason, StringComparison.Ordinal);
            Assert.Contains("as a Podman engine, and this asker says Docker", agent.Answer(Ask(1), CancellationToken.None).Reason, StringComparison.Ordinal);
        }

        /// <summary>
        /// The agent keeps a view a day for askers to come, but one that never answered (an endpoint mistyped, a host gone)
        /// stops reconnecting once unread for its shorter bound, as a session's view does.
        /// </summary>
        [Fact]
        public void A_view_that_never_answered_retires_at_its_shorter_bound()
        {
            using var views = new EngineViews(retireAfter: TimeSpan.FromHours(1), lent: true, retireNeverLiveAfter: Bound);
            using var agent = new EngineAgent(System.IO.Path.Combine(_temp.Directory, "agent.sock"), views);
            Assert.Contains("is not live now", agent.Answer(Ask(2), CancellationToken.None).Reason, StringComparison.Ordinal);
            var waited = Stopwatch.StartNew();
            while (!AllRetired(views) && waited.Elapsed < TimeSpan.FromSeconds(30)) Thread.Sleep(100);
            Assert.True(AllRetired(views), $"a view that never answered did not retire within 30 s of its {Bound.TotalSeconds} s bound (its other bound is 1 h)");
            Assert.True(waited.Elapsed >= Bound - TimeSpan.FromMilliseconds(100), $"it retired {waited.Elapsed.TotalSeconds:0.00} s after it started, before its bound");
        }

        private static bool AllRetired(EngineViews views)
        {
            foreach (var view in views.Started)
            {
                if (!view.IsRetired) return false;
            }
            return true;
        }
    }
}
