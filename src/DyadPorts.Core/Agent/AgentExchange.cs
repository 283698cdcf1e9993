using System;
using System.IO;
using System.Net.Sockets;
using System.Threading;

namespace DyadPorts.Core.Agent
{
    /// <summary>
    /// One exchange with the agent at a socket: connect, check that the peer runs as this user, send one frame, read one
    /// frame, on a blocking socket bounded by closing it at the deadline or when the command is stopped. Blocking calls,
    /// not tasks: a one-shot process starts no socket event thread and compiles no async state machine at run time for its
    /// one question (issue 18). The connect is bounded on its own (<see cref="AgentSocket.LimitConnectWait"/>): closing the
    /// socket does not end a connect waiting for room in a stopped agent's queue.
    /// </summary>
    internal static class AgentExchange
    {
        /// <summary>
        /// The answer's frame. A socket nobody listens at is a <see cref="SocketException"/> (ConnectionRefused), a peer of
        /// another user an <see cref="AgentRefusedException"/>, the deadline an <see cref="OperationCanceledException"/>,
        /// and anything malformed or cut an <see cref="InvalidDataException"/> or <see cref="IOException"/>.
        /// </summary>
        public static byte[] Run(string socketPath, byte[] request, TimeSpan timeout, CancellationToken cancellationToken, out int peerProcessId)
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            AgentSocket.LimitConnectWait(socket, timeout);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            using var close = deadline.Token.Register(static s => ((Socket)s).Dispose(), socket);
            try
            {
                socket.Connect(new UnixDomainSocketEndPoint(socketPath));
                var peer = AgentSocket.PeerCredentials(socket);
                peerProcessId = peer.ProcessId;
                if (peer.UserId != State.UnixFiles.EffectiveUserId) throw new AgentRefusedException($"it runs as user {peer.UserId}, not as this one ({State.UnixFiles.EffectiveUserId}).");
                using var stream = new NetworkStream(socket, ownsSocket: false);
                IOException unwritten = null;
                try
                {
                    AgentWire.WriteFrame(stream, request);
                }
                catch (IOException e) when (!deadline.IsCancellationRequested)
                {
                    // The agent closed without reading: over its connection limit it answers unread (a decline) and closes.
                    // That answer is still there to read.
                    unwritten = e;
                }
                try
                {
                    return AgentWire.ReadFrame(stream);
                }
                catch (Exception e) when (unwritten != null && !deadline.IsCancellationRequested && e is InvalidDataException or IOException)
                {
                    throw new IOException($"The agent closed the connection before it read the request ({unwritten.Message}), and left no answer.", unwritten);
                }
            }
            catch (Exception e) when (deadline.IsCancellationRequested && e is SocketException or ObjectDisposedException or IOException)
            {
                // The socket was closed under the exchange: the command was stopped, or the agent took too long.
                throw new OperationCanceledException(e.Message, e, deadline.Token);
            }
        }
    }
}
