using System;
using System.IO;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using DyadPorts.Core.Agent;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary>
    /// One exchange with an agent (<see cref="AgentExchange"/>) when the agent answers without reading, as it does past its
    /// connection limit: the asker's write fails (the agent closed), and the answer is read all the same. No engine.
    /// </summary>
    public sealed class AgentExchangeTests : IDisposable
    {
        private readonly TempState _temp = new TempState();

        public void Dispose() => _temp.Dispose();

        /// <summary>A socket in this test's folder, listening.</summary>
        private (Socket Listener, string Path) Listening(string name)
        {
            var path = Path.Combine(_temp.Directory, name);
            var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(1);
            return (listener, path);
        }

        /// <summary>Answers <paramref name="wire"/> to the listener's first connection unread, then closes it.</summary>
        private static async Task AnswerUnread(Socket listener, byte[] wire)
        {
            using var connection = await listener.AcceptAsync();
            connection.Send(wire);
        }

        // Far more than a unix socket's buffer holds: the write cannot end before the agent closed, so it fails.
        private static readonly byte[] LargeRequest = new byte[4 * 1024 * 1024];

        [Fact]
        public async Task An_answer_sent_before_the_request_was_read_is_read_although_the_write_failed()
        {
            var (listener, path) = Listening("unread.sock");
            using var owned = listener;
            var served = AnswerUnread(listener, AgentWire.Framed(AgentWire.Encode(new AgentAnswer { Reason = "busy" })));
            var answer = AgentWire.DecodeAnswer(AgentExchange.Run(path, LargeRequest, TimeSpan.FromSeconds(10), CancellationToken.None, out var peer));
            await served;
            Assert.Null(answer.Containers);
            Assert.Equal("busy", answer.Reason);
            Assert.Equal(Environment.ProcessId, peer);
        }

        [Fact]
        public async Task An_agent_that_closes_unread_and_unanswered_is_a_broken_exchange_that_names_the_failed_write()
        {
            var (listener, path) = Listening("closed.sock");
            using var owned = listener;
            var served = AnswerUnread(listener, Array.Empty<byte>());
            var failed = Assert.Throws<IOException>(() => AgentExchange.Run(path, LargeRequest, TimeSpan.FromSeconds(10), CancellationToken.None, out _));
            await served;
            Assert.Contains("closed the connection before it read the request", failed.Message, StringComparison.Ordinal);
            Assert.IsAssignableFrom<IOException>(failed.InnerException);
        }
    }
}
