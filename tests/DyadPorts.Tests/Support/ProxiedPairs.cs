using System;
using System.Collections.Generic;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace DyadPorts.Tests.Support
{
    /// <summary>
    /// The socket pairs (client, server) a test proxy has open (<see cref="HoldingEngineProxy"/>,
    /// <see cref="Fleet.CuttingProxy"/>): kept, closed one pair at a time, and all closed when the proxy is disposed;
    /// and the plain byte pump from one socket of a pair to the other.
    /// </summary>
    public sealed class ProxiedPairs : IDisposable
    {
        private readonly List<Socket> _sockets = new List<Socket>();

        public void Add(Socket client, Socket server)
        {
            lock (_sockets)
            {
                _sockets.Add(client);
                _sockets.Add(server);
            }
        }

        /// <param name="reset">Close with a reset (linger 0), as a lost link would look; else an orderly close.</param>
        public void Close(Socket client, Socket server, bool reset = false)
        {
            foreach (var s in new[] { client, server })
            {
                try
                {
                    if (reset) s.LingerState = new LingerOption(true, 0);
                    s.Close();
                }
                catch (Exception e) when (e is SocketException || e is ObjectDisposedException)
                {
                    // already closed
                }
                lock (_sockets) _sockets.Remove(s);
            }
        }

        /// <summary>Passes bytes from <paramref name="from"/> to <paramref name="to"/> until either end closes or <paramref name="token"/> is cancelled.</summary>
        public static async Task Pump(Socket from, Socket to, CancellationToken token)
        {
            ArgumentNullException.ThrowIfNull(from);
            ArgumentNullException.ThrowIfNull(to);
            var buffer = new byte[64 * 1024];
            try
            {
                while (true)
                {
                    var n = await from.ReceiveAsync(buffer, SocketFlags.None, token).ConfigureAwait(false);
                    if (n == 0) return;
                    await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, token).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is OperationCanceledException || e is SocketException || e is ObjectDisposedException)
            {
                // the pair is closed
            }
        }

        public void Dispose()
        {
            List<Socket> open;
            lock (_sockets) open = new List<Socket>(_sockets);
            foreach (var s in open) s.Dispose();
        }
    }
}
