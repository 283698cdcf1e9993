using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using DyadPorts.Core.Agent;

namespace DyadPorts.Tests.Support
{
    /// <summary>
    /// A process at an agent's socket that accepts and then answers every question with <c>answer</c> (null: never
    /// answers); counts the connections it accepted and keeps the questions it could read.
    /// </summary>
    public sealed class FakeAgent : IDisposable
    {
        private readonly Socket _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        private readonly List<Socket> _held = new List<Socket>();
        private readonly ConcurrentQueue<AgentRequest> _requests = new ConcurrentQueue<AgentRequest>();
        private int _accepted;

        public FakeAgent(string path, byte[] answer)
        {
            _listener.Bind(new UnixDomainSocketEndPoint(path));
            _listener.Listen(8);
            _ = Task.Run(async () =>
            {
                while (true)
                {
                    Socket connection;
                    try { connection = await _listener.AcceptAsync(); }
                    catch (Exception e) when (e is ObjectDisposedException || e is SocketException) { return; }
                    lock (_held) _held.Add(connection);
                    if (answer == null)
                    {
                        Interlocked.Increment(ref _accepted);
                        continue;
                    }
                    using var stream = new NetworkStream(connection);
                    try
                    {
                        var question = await AgentWire.ReadFrameAsync(stream, default);
                        try { _requests.Enqueue(AgentWire.DecodeRequest(question)); }
                        catch (InvalidDataException) { } // kept only when readable
                        Interlocked.Increment(ref _accepted); // counted once read: a test that reads it sees the question too
                        await AgentWire.WriteFrameAsync(stream, answer, default);
                    }
                    catch (IOException)
                    {
                        Interlocked.Increment(ref _accepted);
                    }
                }
            });
        }

        /// <summary>An answer that lends a view of no containers.</summary>
        public static byte[] Empty => AgentWire.Encode(new AgentAnswer { Containers = Array.Empty<Core.Engines.ContainerSummary>() });

        public int Accepted => Volatile.Read(ref _accepted);

        /// <summary>The questions read so far, oldest first.</summary>
        public IReadOnlyList<AgentRequest> Requests => _requests.ToArray();

        public void Dispose()
        {
            _listener.Dispose();
            lock (_held) foreach (var s in _held) s.Dispose();
        }
    }
}
