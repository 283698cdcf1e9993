using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using DyadPorts.Core.Agent;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Session;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>
    /// The agent (issue 18: a one-shot start that does not pay for a list) on both real engines: a one-shot session reads
    /// the agent's view with no engine call of its own, passes over a container another client created once
    /// <see cref="ViewTiming.FreshnessBound"/> has passed, sees its own changes at once, and lists when no agent answers,
    /// when the feed is off, or when DYAD_PORTS_AGENT is off. The agent refuses a path another agent holds and leaves
    /// anything that is not its own socket alone. Each test's agent listens in its own temporary folder. Ports 27400-27449.
    /// </summary>
    [Collection(EngineCollection.Name)]
    public sealed class AgentEngineTests : IDisposable
    {
        private static readonly TimeSpan LiveWithin = TimeSpan.FromSeconds(30);
        private readonly TempState _temp = new TempState();
        private readonly EngineFixture _engines;
        private readonly List<IDisposable> _owned = new List<IDisposable>();

        public AgentEngineTests(EngineFixture engines) => _engines = engines;

        public void Dispose()
        {
            foreach (var owned in Enumerable.Reverse(_owned)) owned.Dispose();
            _temp.Dispose();
        }

        private string SocketPath => Path.Combine(_temp.Directory, "agent.sock");

        private static int Port(int offset) => 27400 + offset;
        private static string Range(int from, int to) => string.Create(CultureInfo.InvariantCulture, $"{Port(from)}-{Port(to)}");

        /// <summary>An agent at this test's socket, following the engine, live (bounded wait).</summary>
        private EngineAgent LiveAgent(TestEngine engine, TimeSpan? connectionTimeout = null)
        {
            var agent = new EngineAgent(SocketPath, connectionTimeout: connectionTimeout);
            _owned.Add(agent);
            agent.Listen();
            agent.Follow(engine.Endpoint, engine.Kind, null);
            _ = agent.RunAsync(CancellationToken.None);
            var waited = Stopwatch.StartNew();
            while (!agent.IsLive(engine.Endpoint) && waited.Elapsed < LiveWithin) Thread.Sleep(20);
            Assert.True(agent.IsLive(engine.Endpoint), $"the agent's view of {engine.Endpoint} is not live after {LiveWithin.TotalSeconds} s");
            return agent;
        }

        /// <summary>A new session, as a one-shot process has: no view of its own yet.</summary>
        private DyadSession OneShot(string range, string agent = null, string feed = null)
        {
            var env = new Dictionary<string, string>
            {
                ["DYAD_PORTS_STATE"] = _temp.StatePath,
                ["DYAD_PORT_RANGE"] = range,
                ["HOME"] = _temp.Directory,
                [AgentSocket.Variable] = agent ?? SocketPath,
            };
            if (feed != null) env[DyadSettings.EngineFeedVariable] = feed;
            var session = new DyadSession(name => env.TryGetValue(name, out var v) ? v : null);
            _owned.Add(session);
            return session;
        }

        private static (PortAllocation Allocation, ContainerEngine Client, RecordingLog Log) Request(DyadSession session, TestEngine engine, string app,
            CancellationToken cancellationToken = default)
        {
            var log = new RecordingLog();
            var allocator = session.Allocator(engine.Kind, engine.Endpoint, log, cancellationToken);
            var allocation = allocator.Request(TestRun.App(app), session.Settings().Range, false, log, cancellationToken);
            return (allocation, allocator.Engine.Engine, log);
        }

        /// <summary>
        /// A killed agent's socket: the file is there and nobody listens. (.NET removes the file a socket bound when it
        /// disposes it, so the socket is bound elsewhere and its file moved to <paramref name="path"/> first.)
        /// </summary>
        private void DeadSocket(string path)
        {
            var bound = Path.Combine(_temp.Directory, "bound.sock");
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Bind(new UnixDomainSocketEndPoint(bound));
            File.Move(bound, path);
        }

        private static bool FromAgent(RecordingLog log) => log.Verbose.Any(line => line.Contains("in the view of the DyadPorts agent", StringComparison.Ordinal));

        [Theory, MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_one_shot_reads_the_agents_view_with_no_engine_call_and_passes_over_another_clients_container(string name)
        {
            var engine = _engines.Get(name);
            var agent = LiveAgent(engine);
            var id = engine.Run(TestRun.App("agent-other-" + name), Port(0), start: false);
            try
            {
                Thread.Sleep(ViewTiming.FreshnessBound);
                var (allocation, client, log) = Request(OneShot(Range(0, 4)), engine, "agent-one");
                Assert.True(FromAgent(log), "the one-shot did not read the agent's view: " + string.Join(" | ", log.Verbose));
                Assert.Equal(Port(1), allocation.Port);
                Assert.Equal(0L, client.Calls);
                Assert.Equal(1L, agent.Answered);
            }
            finally
            {
                engine.Remove(id);
            }
        }

        [Theory, MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void The_containers_a_one_shot_changed_itself_are_in_the_agents_next_answer_at_once(string name)
        {
            var engine = _engines.Get(name);
            var agent = LiveAgent(engine);
            var session = OneShot(Range(5, 9));
            var (first, client, _) = Request(session, engine, "agent-own");
            Assert.Equal(Port(5), first.Port);
            // The session's own client creates a container on the port its next candidate would be, and asks again at once:
            // no wait for the engine's events, so only the change it tells the agent can make the agent's view hold it.
            var id = client.Create(new Docker.DotNet.Models.CreateContainerParameters
            {
                Name = TestRun.App("agent-own-" + name),
                Image = engine.Image,
                Cmd = new List<string> { "sleep", "600" },
                Labels = new Dictionary<string, string> { [TestRun.Label] = TestRun.Id },
                ExposedPorts = new Dictionary<string, Docker.DotNet.Models.EmptyStruct> { ["80/tcp"] = default },
                HostConfig = new Docker.DotNet.Models.HostConfig
                {
                    PortBindings = new Dictionary<string, IList<Docker.DotNet.Models.PortBinding>> { ["80/tcp"] = new List<Docker.DotNet.Models.PortBinding> { new Docker.DotNet.Models.PortBinding { HostPort = Port(6).ToString(CultureInfo.InvariantCulture) } } },
                },
            }, CancellationToken.None);
            try
            {
                var log = new RecordingLog();
                var allocator = session.Allocator(engine.Kind, engine.Endpoint, log, CancellationToken.None);
                var status = allocator.Test(new[] { Port(6) }, log, CancellationToken.None).Single();
                Assert.True(FromAgent(log), "the one-shot did not read the agent's view: " + string.Join(" | ", log.Verbose));
                Assert.False(status.Available, $"port {Port(6)}, published by the container the session just created, reads as free in the agent's answer");
                Assert.Contains(TestRun.App("agent-own-" + name), status.HeldBy, StringComparison.Ordinal);
                Assert.True(agent.Answered >= 2);
                // Whatever the engine's events delivered meanwhile (dockerd's come within milliseconds), the agent was told.
                Assert.True(agent.ChangesInspected >= 1, "the one-shot did not tell the agent of the container it created");
            }
            finally
            {
                engine.Remove(id);
            }
        }

        [Theory, MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void Without_an_agent_listening_with_the_feed_off_or_with_the_agent_off_a_one_shot_lists(string name)
        {
            var engine = _engines.Get(name);
            DeadSocket(SocketPath);
            var (allocation, client, log) = Request(OneShot(Range(10, 12)), engine, "agent-none");
            Assert.Equal(Port(10), allocation.Port);
            Assert.True(client.Calls > 0, "a one-shot with no agent made no engine call");
            Assert.Contains(log.Verbose, line => line.Contains("No DyadPorts agent listens", StringComparison.Ordinal));

            File.Delete(SocketPath);
            var agent = LiveAgent(engine);
            foreach (var (agentSetting, feed) in new[] { ((string)null, "off"), ("off", (string)null) })
            {
                var (again, listed, said) = Request(OneShot(Range(10, 12), agentSetting, feed), engine, "agent-none");
                Assert.Equal(Port(10), again.Port);
                Assert.True(listed.Calls > 0, $"a one-shot with DYAD_PORTS_AGENT={agentSetting ?? SocketPath} and the feed {feed ?? "on"} made no engine call");
                Assert.False(FromAgent(said));
            }
            Assert.Equal(0L, agent.Answered);
        }

        [Fact]
        public void A_second_agent_at_the_same_path_is_refused_and_a_dead_agents_socket_replaced()
        {
            var engine = _engines.Get("docker");
            LiveAgent(engine);
            using var second = new EngineAgent(SocketPath);
            var refused = Assert.Throws<DyadPortsException>(second.Listen);
            Assert.Equal(ErrorIds.AgentSocketInUse, refused.ErrorId);
            Assert.Equal(SocketPath, refused.Target);
            Assert.True(File.Exists(SocketPath), "the refused agent removed the live one's socket");

            // The first agent gone without removing its socket (killed): the next one replaces it.
            var deadPath = Path.Combine(_temp.Directory, "dead.sock");
            DeadSocket(deadPath);
            Assert.True(File.Exists(deadPath));
            using var next = new EngineAgent(deadPath);
            next.Listen();
            using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            probe.Connect(new UnixDomainSocketEndPoint(deadPath));
        }

        [Fact]
        public void The_lock_alone_keeps_a_second_agent_off_the_path_and_its_socket_untouched()
        {
            // Another agent holds the path's lock (starting, say, before it has bound): a dead socket there is not the
            // second agent's to remove, even though nobody answers at it.
            DeadSocket(SocketPath);
            using var held = Core.State.UnixFiles.Open(SocketPath + ".lock", Core.State.UnixFiles.ReadWrite | Core.State.UnixFiles.Create, Convert.ToInt32("600", 8), out _);
            Assert.True(Core.State.UnixFiles.TryLock(held));
            using var second = new EngineAgent(SocketPath);
            var refused = Assert.Throws<DyadPortsException>(second.Listen);
            Assert.Equal(ErrorIds.AgentSocketInUse, refused.ErrorId);
            Assert.True(File.Exists(SocketPath), "the agent without the lock removed the socket at the path");
        }

        [Fact]
        [System.Runtime.Versioning.SupportedOSPlatform("linux")]
        public void An_agent_leaves_a_file_that_is_not_a_socket_alone_and_refuses_a_folder_others_may_write()
        {
            var file = Path.Combine(_temp.Directory, "precious.sock");
            File.WriteAllText(file, "precious");
            using (var agent = new EngineAgent(file))
            {
                var refused = Assert.Throws<DyadPortsException>(agent.Listen);
                Assert.Equal(ErrorIds.AgentSocketUnsafe, refused.ErrorId);
                Assert.Equal(FailureCategory.SecurityError, refused.Category);
            }
            Assert.Equal("precious", File.ReadAllText(file));

            var open = Path.Combine(_temp.Directory, "open");
            Directory.CreateDirectory(open);
            File.SetUnixFileMode(open, (UnixFileMode)Convert.ToInt32("777", 8));
            using var inOpen = new EngineAgent(Path.Combine(open, "agent.sock"));
            Assert.Equal(ErrorIds.AgentSocketUnsafe, Assert.Throws<DyadPortsException>(inOpen.Listen).ErrorId);
            Assert.False(File.Exists(Path.Combine(open, "agent.sock")));
        }

        /// <summary>
        /// In a folder others may write to (as /tmp, where the default path falls back without XDG_RUNTIME_DIR), the
        /// agent's folder must be no link: another user could link it to a folder of this user's and repoint it later.
        /// A real folder of this user's there is fine.
        /// </summary>
        [Fact]
        [System.Runtime.Versioning.SupportedOSPlatform("linux")]
        public void An_agent_refuses_a_folder_that_is_a_link_in_a_place_others_may_write_to()
        {
            // Short names: a unix socket's path holds at most 108 bytes.
            var shared = Path.Combine(_temp.Directory, "s");
            Directory.CreateDirectory(shared);
            File.SetUnixFileMode(shared, (UnixFileMode)Convert.ToInt32("1777", 8));
            var own = Directory.CreateDirectory(Path.Combine(_temp.Directory, "o"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute).FullName;
            var link = Path.Combine(shared, "l");
            File.CreateSymbolicLink(link, own);
            using (var linked = new EngineAgent(Path.Combine(link, "agent.sock")))
            {
                var refused = Assert.Throws<DyadPortsException>(linked.Listen);
                Assert.Equal(ErrorIds.AgentSocketUnsafe, refused.ErrorId);
                Assert.Contains("is a link in", refused.Message, StringComparison.Ordinal);
            }
            Assert.Empty(Directory.GetFileSystemEntries(own));

            var real = Directory.CreateDirectory(Path.Combine(shared, "r"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute).FullName;
            using var agent = new EngineAgent(Path.Combine(real, "agent.sock"));
            agent.Listen();
            Assert.True(File.Exists(Path.Combine(real, "agent.sock")));
        }

        [Theory, MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_silent_agent_costs_a_bounded_wait_once_then_the_session_lists_without_asking(string name)
        {
            var engine = _engines.Get(name);
            using var silent = new FakeAgent(SocketPath, null);
            var session = OneShot(Range(16, 18));
            var started = Stopwatch.StartNew();
            var (first, client, log) = Request(session, engine, "agent-silent");
            var took = started.Elapsed;
            Assert.Equal(Port(16), first.Port);
            Assert.True(client.Calls > 0, "the session did not list after the agent stayed silent");
            Assert.Contains(log.Verbose, line => line.Contains("did not answer (no answer within", StringComparison.Ordinal));
            Assert.True(took < AgentClient.AnswerTimeout + TimeSpan.FromSeconds(5), $"a silent agent held the request for {took.TotalMilliseconds} ms");
            var (second, _, _) = Request(session, engine, "agent-silent");
            Assert.Equal(Port(16), second.Port);
            Assert.Equal(1, silent.Accepted); // within AgentClient.QuietAfterFailure, not asked again
        }

        /// <summary>
        /// An agent stopped with Ctrl+Z (or paused, or in a debugger) accepts nobody, so its queue fills; Linux then makes a
        /// blocking connect wait until it accepts. The one-shot's connect is bounded on its own (closing the socket does not
        /// end that wait): the request lists after the bounded wait, and the session does not ask again.
        /// </summary>
        [Theory, MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public async Task A_stopped_agent_whose_queue_is_full_costs_a_bounded_wait_then_the_session_lists(string name)
        {
            var engine = _engines.Get(name);
            using var stopped = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            stopped.Bind(new UnixDomainSocketEndPoint(SocketPath));
            stopped.Listen(0); // room for one waiting connection, never accepted
            using var filler = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            filler.Connect(new UnixDomainSocketEndPoint(SocketPath));
            var session = OneShot(Range(22, 24));
            // On a task of its own: a connect that waits for ever fails the test here, and closing the listener at the
            // end (using) releases it.
            var request = Task.Run(() => Request(session, engine, "agent-stopped"));
            var bound = Task.Delay(AgentClient.AnswerTimeout + TimeSpan.FromSeconds(5));
            Assert.True(await Task.WhenAny(request, bound) == request, "a full queue held the request past its bound");
            var (first, client, log) = await request;
            Assert.Equal(Port(22), first.Port);
            Assert.True(client.Calls > 0, "the session did not list when the agent's queue was full");
            Assert.False(FromAgent(log));
            Assert.Contains(log.Verbose, line => line.Contains("did not answer", StringComparison.Ordinal));
            var (second, _, secondLog) = Request(session, engine, "agent-stopped");
            Assert.Equal(Port(22), second.Port);
            Assert.DoesNotContain(secondLog.Verbose, line => line.Contains("did not answer", StringComparison.Ordinal)); // quiet: not asked again
        }

        /// <summary>
        /// A command stopped while it waits for the agent (Ctrl+C) ends as cancelled, and that is not the agent's failure:
        /// the session's next command asks the agent again.
        /// </summary>
        [Theory, MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_command_stopped_while_the_agent_is_silent_is_cancelled_and_the_agent_is_asked_again(string name)
        {
            var engine = _engines.Get(name);
            using var silent = new FakeAgent(SocketPath, null);
            var session = OneShot(Range(25, 27));
            using var stop = new CancellationTokenSource();
            stop.CancelAfter(TimeSpan.FromMilliseconds(300));
            Assert.ThrowsAny<OperationCanceledException>(() => Request(session, engine, "agent-stopped-cmd", stop.Token));
            Assert.Equal(1, silent.Accepted);
            var (allocation, client, log) = Request(session, engine, "agent-stopped-cmd");
            Assert.Equal(Port(25), allocation.Port);
            Assert.True(client.Calls > 0);
            Assert.Contains(log.Verbose, line => line.Contains("did not answer (no answer within", StringComparison.Ordinal));
            Assert.Equal(2, silent.Accepted); // asked again: the stop was not counted against the agent
        }

        [Theory, MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_malformed_answer_makes_the_session_list(string name)
        {
            var engine = _engines.Get(name);
            var created = AgentWire.Encode(new AgentAnswer { Containers = Array.Empty<ContainerSummary>() });
            created[0] = 7; // another protocol's version
            using var odd = new FakeAgent(SocketPath, created);
            var (allocation, client, log) = Request(OneShot(Range(19, 21)), engine, "agent-odd");
            Assert.Equal(Port(19), allocation.Port);
            Assert.True(client.Calls > 0);
            Assert.False(FromAgent(log));
            Assert.Contains(log.Verbose, line => line.Contains("Protocol version 7", StringComparison.Ordinal));
        }

        /// <summary>
        /// A burst past the agent's connection limit: the connection one past <see cref="EngineAgent.MostConnections"/> is
        /// told to list, unread, so its asker lists now and asks again next time. Before, it was closed unanswered, and its
        /// asker took that for a failed agent and left it alone for <see cref="AgentClient.QuietAfterFailure"/>.
        /// </summary>
        [Theory, MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_connection_past_the_agents_limit_is_told_to_list_and_the_next_request_asks_again(string name)
        {
            var engine = _engines.Get(name);
            var agent = LiveAgent(engine, connectionTimeout: TimeSpan.FromMinutes(2)); // the held connections keep their slots until closed
            var session = OneShot(Range(28, 30));
            var held = new List<Socket>();
            try
            {
                // Connections that send nothing hold their slots until the agent's connection bound, or until they close.
                for (var i = 0; i < EngineAgent.MostConnections; i++)
                {
                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    held.Add(socket);
                    socket.Connect(new UnixDomainSocketEndPoint(SocketPath));
                }
                var (first, client, log) = Request(session, engine, "agent-burst");
                Assert.Equal(Port(28), first.Port);
                Assert.True(client.Calls > 0, "the session did not list when the agent had no connection left");
                Assert.True(log.Verbose.Any(line => line.Contains($"did not lend its view: it serves {EngineAgent.MostConnections} connections already", StringComparison.Ordinal)),
                    "the agent did not tell the session to list: " + string.Join(" | ", log.Verbose));
                Assert.Equal(1L, agent.Declined);
            }
            finally
            {
                foreach (var socket in held) socket.Dispose();
            }
            var waited = Stopwatch.StartNew();
            while (agent.Failed < EngineAgent.MostConnections && waited.Elapsed < LiveWithin) Thread.Sleep(20); // each closed one ends its task
            Assert.Equal(EngineAgent.MostConnections, agent.Failed);
            var (second, _, secondLog) = Request(session, engine, "agent-burst");
            Assert.True(FromAgent(secondLog), "the session did not ask the agent again: " + string.Join(" | ", secondLog.Verbose));
            Assert.Equal(Port(28), second.Port);
            Assert.Equal(1L, agent.Answered);
        }

        /// <summary>
        /// Get-DyadPortAgent's question (<see cref="AgentStatusQuery"/>): the agent reports its own process, its live view
        /// and what it answered; the status exchange itself is not counted as an answer.
        /// </summary>
        [Theory, MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void The_agent_reports_its_process_its_live_views_and_what_it_answered(string name)
        {
            var engine = _engines.Get(name);
            var agent = LiveAgent(engine);
            var before = AgentStatusQuery.Ask(SocketPath, CancellationToken.None);
            Assert.Equal(Environment.ProcessId, before.ProcessId);
            Assert.Equal(SocketPath, before.Path);
            Assert.Equal(agent.StartedAt, before.StartedAt);
            var followed = Assert.Single(before.Endpoints);
            Assert.Equal((engine.Endpoint, engine.Kind, true), (followed.Endpoint, followed.Engine, followed.Live));
            Assert.True(followed.Lists >= 1 && followed.EngineCalls >= followed.Lists, $"lists {followed.Lists}, calls {followed.EngineCalls}");
            Assert.Equal(0L, before.Answered);

            var (_, _, log) = Request(OneShot(Range(31, 33)), engine, "agent-status");
            Assert.True(FromAgent(log));
            var after = AgentStatusQuery.Ask(SocketPath, CancellationToken.None);
            Assert.Equal(1L, after.Answered);
            Assert.Equal(agent.Answered, after.Answered);
            Assert.Equal(0L, after.Declined);
        }

        /// <summary>Each reason there is no status is its own error, for that socket: no agent, a killed one's socket, a silent or an older one.</summary>
        [Fact]
        public void Without_an_agent_to_report_the_status_query_says_why_for_that_socket()
        {
            var missing = Assert.Throws<DyadPortsException>(() => AgentStatusQuery.Ask(SocketPath, CancellationToken.None));
            Assert.Equal((ErrorIds.AgentNotRunning, FailureCategory.ObjectNotFound, (object)SocketPath, false), (missing.ErrorId, missing.Category, missing.Target, missing.IsTerminating));
            Assert.Contains("there is nothing at that path", missing.Message, StringComparison.Ordinal);

            DeadSocket(SocketPath);
            var dead = Assert.Throws<DyadPortsException>(() => AgentStatusQuery.Ask(SocketPath, CancellationToken.None));
            Assert.Equal((ErrorIds.AgentNotRunning, (object)SocketPath), (dead.ErrorId, dead.Target));
            Assert.Contains("nothing listens at the socket there", dead.Message, StringComparison.Ordinal);
            File.Delete(SocketPath);

            using (var silent = new FakeAgent(SocketPath, null))
            {
                var started = Stopwatch.StartNew();
                var timedOut = Assert.Throws<DyadPortsException>(() => AgentStatusQuery.Ask(SocketPath, CancellationToken.None));
                Assert.Equal((ErrorIds.AgentNotAnswering, FailureCategory.OperationTimeout, false), (timedOut.ErrorId, timedOut.Category, timedOut.IsTerminating));
                Assert.True(started.Elapsed < AgentStatusQuery.AnswerTimeout + TimeSpan.FromSeconds(5), $"a silent agent held the query for {started.Elapsed.TotalMilliseconds} ms");
            }
            File.Delete(SocketPath);

            // A process that answers nothing this module reads (an agent of 0.6.3 closes a connection whose protocol version
            // it does not speak; this one answers an empty frame).
            using (var older = new FakeAgent(SocketPath, Array.Empty<byte>()))
            {
                var unread = Assert.Throws<DyadPortsException>(() => AgentStatusQuery.Ask(SocketPath, CancellationToken.None));
                Assert.Equal((ErrorIds.AgentNotAnswering, FailureCategory.InvalidData, (object)SocketPath), (unread.ErrorId, unread.Category, unread.Target));
                Assert.Contains("answered no status this module reads", unread.Message, StringComparison.Ordinal);
            }
            File.Delete(SocketPath);

            // An agent past its connection limit tells every asker to list, unread: busy, not old.
            using (var busy = new FakeAgent(SocketPath, AgentWire.Encode(new AgentAnswer { Reason = "it serves 64 connections already" })))
            {
                var declined = Assert.Throws<DyadPortsException>(() => AgentStatusQuery.Ask(SocketPath, CancellationToken.None));
                Assert.Equal((ErrorIds.AgentNotAnswering, FailureCategory.ResourceBusy, (object)SocketPath), (declined.ErrorId, declined.Category, declined.Target));
                Assert.Contains("too busy to report its status: it serves 64 connections already", declined.Message, StringComparison.Ordinal);
            }
        }

        [Fact]
        public async Task A_malformed_request_costs_only_its_own_connection()
        {
            var engine = _engines.Get("docker");
            var agent = LiveAgent(engine);
            using (var bad = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            {
                await bad.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath));
                using var stream = new NetworkStream(bad);
                await AgentWire.WriteFrameAsync(stream, new byte[] { 99, 1, 2 }, default);
                Assert.Equal(0, stream.Read(new byte[16], 0, 16)); // closed, unanswered
            }
            var (allocation, client, log) = Request(OneShot(Range(13, 15)), engine, "agent-after-bad");
            Assert.True(FromAgent(log));
            Assert.Equal(0L, client.Calls);
            Assert.Equal(Port(13), allocation.Port);
            Assert.Equal(1L, agent.Failed);
        }
    }
}
