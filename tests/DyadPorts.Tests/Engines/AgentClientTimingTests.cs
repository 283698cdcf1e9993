using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using DyadPorts.Core.Agent;
using DyadPorts.Core.Engines;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>
    /// The agent client's time limits, on a clock the test moves (<see cref="ManualTime"/>), at both sides of each edge:
    /// a change of the session's own is sent along for <see cref="AgentClient.ChangesKept"/> and no longer; more than
    /// <see cref="EngineAgent.MostChanges"/> such changes make the session list instead of asking, until they age out;
    /// an agent that failed is left alone for <see cref="AgentClient.QuietAfterFailure"/>, then asked again. The agent is
    /// a <see cref="FakeAgent"/> in the test's own folder. A change is what the session's client reports when it removes
    /// a container: one that is not there (gone already) is a removal with one engine call and nothing on the engine.
    /// </summary>
    [Collection(EngineCollection.Name)]
    public sealed class AgentClientTimingTests : IDisposable
    {
        private readonly TempState _temp = new TempState();
        private readonly EngineFixture _engines;
        private readonly ManualTime _time = new ManualTime();
        private readonly List<IDisposable> _owned = new List<IDisposable>();

        public AgentClientTimingTests(EngineFixture engines) => _engines = engines;

        public void Dispose()
        {
            foreach (var owned in Enumerable.Reverse(_owned)) owned.Dispose();
            _temp.Dispose();
        }

        private string SocketPath => Path.Combine(_temp.Directory, "agent.sock");

        /// <summary>A client of the test engine's endpoint of this test's own (the asker follows its changes), and the asker.</summary>
        private (ContainerEngine Client, AgentClient Asker) Session(TestEngine engine)
        {
            var client = new ContainerEngine(engine.Endpoint, engine.Kind);
            _owned.Add(client);
            var asker = new AgentClient(SocketPath, _time);
            asker.Watch(client);
            return (client, asker);
        }

        private static string Removed(ContainerEngine client, int n)
        {
            var id = TestRun.App($"agent-gone-{n}");
            client.Remove(id, CancellationToken.None);
            return id;
        }

        private static EngineSnapshot Ask(AgentClient asker, ContainerEngine client, TestEngine engine, RecordingLog log = null) =>
            asker.Read(client, engine.Kind, log ?? new RecordingLog(), CancellationToken.None);

        [Theory, MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_change_is_sent_to_the_agent_until_ChangesKept_has_passed_and_not_after(string name)
        {
            var engine = _engines.Get(name);
            using var agent = new FakeAgent(SocketPath, FakeAgent.Empty);
            var (client, asker) = Session(engine);
            var id = Removed(client, 1);

            Assert.NotNull(Ask(asker, client, engine));
            Assert.Equal(new[] { KeyValuePair.Create(id, true) }, agent.Requests[0].Changed);

            _time.Advance(AgentClient.ChangesKept); // at the edge: still sent
            Assert.NotNull(Ask(asker, client, engine));
            Assert.Equal(new[] { KeyValuePair.Create(id, true) }, agent.Requests[1].Changed);

            _time.Advance(TimeSpan.FromMilliseconds(1)); // past it: the agent's own view has it from the engine by now
            Assert.NotNull(Ask(asker, client, engine));
            Assert.Empty(agent.Requests[2].Changed);
            Assert.Equal(3, agent.Accepted);
        }

        [Theory, MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void More_changes_than_the_agent_inspects_make_the_session_list_until_they_age_out(string name)
        {
            var engine = _engines.Get(name);
            using var agent = new FakeAgent(SocketPath, FakeAgent.Empty);
            var (client, asker) = Session(engine);
            var ids = new HashSet<string>(StringComparer.Ordinal);
            for (var n = 1; n <= EngineAgent.MostChanges; n++) ids.Add(Removed(client, n));

            Assert.NotNull(Ask(asker, client, engine)); // exactly as many as the agent inspects: asked, with all of them
            Assert.True(ids.SetEquals(agent.Requests[0].Changed.Select(c => c.Key)), "the agent was not sent every change of the session's");

            ids.Add(Removed(client, EngineAgent.MostChanges + 1));
            var log = new RecordingLog();
            Assert.Null(Ask(asker, client, engine, log)); // one more: leaving one out could hide a container, so the session lists
            Assert.Equal(1, agent.Accepted);
            Assert.Contains(log.Verbose, line => line.Contains($"changed more than {EngineAgent.MostChanges} containers", StringComparison.Ordinal));

            _time.Advance(AgentClient.ChangesKept);
            Assert.Null(Ask(asker, client, engine)); // not yet aged out
            Assert.Equal(1, agent.Accepted);

            _time.Advance(TimeSpan.FromMilliseconds(1));
            Assert.NotNull(Ask(asker, client, engine));
            Assert.Equal(2, agent.Accepted);
            Assert.Empty(agent.Requests[1].Changed);
        }

        [Fact]
        public void An_agent_that_failed_is_left_alone_for_QuietAfterFailure_then_asked_again()
        {
            var engine = _engines.Get("docker"); // no engine call: the agent is the only one asked
            var malformed = FakeAgent.Empty;
            malformed[0] = 7; // another protocol's version
            using var agent = new FakeAgent(SocketPath, malformed);
            var (client, asker) = Session(engine);
            var calls = client.Calls;

            var log = new RecordingLog();
            Assert.Null(Ask(asker, client, engine, log));
            Assert.Equal(1, agent.Accepted);
            Assert.Contains(log.Verbose, line => line.Contains("not asking it again for 30 s", StringComparison.Ordinal));

            _time.Advance(AgentClient.QuietAfterFailure - TimeSpan.FromMilliseconds(1));
            Assert.Null(Ask(asker, client, engine));
            Assert.Equal(1, agent.Accepted); // quiet: not asked

            _time.Advance(TimeSpan.FromMilliseconds(1)); // at the edge: asked again
            Assert.Null(Ask(asker, client, engine));
            Assert.Equal(2, agent.Accepted);
            Assert.Equal(calls, client.Calls);
        }
    }
}
