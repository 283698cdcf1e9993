using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using DyadPorts.Tests.Support;

namespace DyadPorts.Tests.Fleet
{
    /// <summary>
    /// A TCP forwarder on 127.0.0.1:<c>listenPort</c> in front of one etcd member (HTTP/2 bytes passed through as they
    /// are), that can lose an answer: once <see cref="Arm"/>ed with a marker, the first client-to-server chunk holding
    /// the marker is forwarded (the member gets the request and applies it), every byte the member sends back on that
    /// connection from then on is dropped, and after <see cref="CutDelay"/> both sockets are closed. The client sees its
    /// call fail with the connection lost, although the member committed it: an ambiguous commit. gRPC requests are
    /// not compressed here, so a string in a request (a key, a JSON value) is in its bytes.
    /// </summary>
    public sealed class CuttingProxy : IDisposable
    {
        public static readonly TimeSpan CutDelay = TimeSpan.FromMilliseconds(500);
        private readonly TcpListener _listener;
        private readonly IPEndPoint _target;
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly ProxiedPairs _pairs = new ProxiedPairs();
        private byte[] _marker;
        private int _cuts;

        public CuttingProxy(int listenPort, int targetPort)
        {
            _target = new IPEndPoint(IPAddress.Loopback, targetPort);
            _listener = new TcpListener(IPAddress.Loopback, listenPort);
            _listener.Start();
            Endpoint = "127.0.0.1:" + listenPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
            _ = Task.Run(AcceptLoop);
        }

        public string Endpoint { get; }

        /// <summary>How many answers were lost so far.</summary>
        public int Cuts => Volatile.Read(ref _cuts);

        /// <summary>
        /// The next request that holds <paramref name="marker"/> (UTF-8) loses its answer; one cut per Arm. The connection
        /// stays open and silent for <paramref name="silentFor"/> (default <see cref="CutDelay"/>), then is reset: longer
        /// than the client's deadline, the call times out instead of seeing the connection go.
        /// </summary>
        public void Arm(string marker, TimeSpan? silentFor = null)
        {
            Interlocked.Exchange(ref _silentForTicks, (silentFor ?? CutDelay).Ticks);
            Volatile.Write(ref _marker, System.Text.Encoding.UTF8.GetBytes(marker));
        }

        private long _silentForTicks = CutDelay.Ticks;

        public void Disarm() => Volatile.Write(ref _marker, null);

        private async Task AcceptLoop()
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await _listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException || e is SocketException || e is ObjectDisposedException)
                {
                    return;
                }
                _ = Task.Run(() => Pair(client));
            }
        }

        private async Task Pair(Socket client)
        {
            var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            _pairs.Add(client, server);
            try
            {
                await server.ConnectAsync(_target, _stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException || e is SocketException || e is ObjectDisposedException)
            {
                _pairs.Close(client, server, reset: true); // a reset, as a lost link would look
                return;
            }
            var muted = new StrongBox();
            var up = Pump(client, server, muted, watch: true);
            var down = Pump(server, client, muted, watch: false);
            await Task.WhenAny(up, down).ConfigureAwait(false);
            _pairs.Close(client, server, reset: true); // a reset, as a lost link would look
        }

        private async Task Pump(Socket from, Socket to, StrongBox muted, bool watch)
        {
            var buffer = new byte[64 * 1024];
            var tail = Array.Empty<byte>();
            try
            {
                while (true)
                {
                    var n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                    if (n == 0) return;
                    if (watch && Volatile.Read(ref _marker) is byte[] marker)
                    {
                        var window = new byte[tail.Length + n];
                        tail.CopyTo(window, 0);
                        Array.Copy(buffer, 0, window, tail.Length, n);
                        if (window.AsSpan().IndexOf(marker) >= 0 && Interlocked.CompareExchange(ref _marker, null, marker) == marker)
                        {
                            muted.Value = true; // before the request goes on: none of its answer gets back
                            await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stop.Token).ConfigureAwait(false);
                            await Task.Delay(TimeSpan.FromTicks(Interlocked.Read(ref _silentForTicks)), _stop.Token).ConfigureAwait(false);
                            Interlocked.Increment(ref _cuts);
                            return; // the pair is closed
                        }
                        tail = window.AsSpan(Math.Max(0, window.Length - marker.Length)).ToArray();
                    }
                    if (muted.Value) continue;
                    await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stop.Token).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is OperationCanceledException || e is SocketException || e is ObjectDisposedException)
            {
                // the pair is closed
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _pairs.Dispose();
            _stop.Dispose();
        }

        private sealed class StrongBox
        {
            private volatile bool _value;
            public bool Value { get => _value; set => _value = value; }
        }
    }
}
