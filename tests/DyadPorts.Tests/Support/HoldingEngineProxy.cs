using System;
using System.Collections.Generic;
using System.IO;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;

namespace DyadPorts.Tests.Support
{
    /// <summary>
    /// A unix-socket proxy in front of a real engine's API socket (dockerd's or podman's), given to a start as its
    /// <c>-EngineEndpoint</c>: every request is passed to the engine as it is, except <c>POST /containers/{id}/start</c>,
    /// which is held (never forwarded, never answered) until the proxy is disposed. A start through it creates its
    /// container, then waits in the engine's start call: mid-way, with its reservation and its app lock written and its
    /// preview not recorded. Requests are framed as HTTP/1.1 (Content-Length or chunked bodies; a line may end in LF alone,
    /// as Docker.DotNet ends its header lines), answers passed through as bytes; a connection that upgrades (attach, exec)
    /// is passed through as bytes from then on. With <see cref="DropFromEventStreams"/>, answers are framed too, and the
    /// events a stream would carry can be taken out of it.
    /// </summary>
    public sealed class HoldingEngineProxy : IDisposable
    {
        /// <summary>An event stream as an engine view follows it: GET /events with no until= (a catch-up asks with one).</summary>
        private static readonly Regex EventStreamRequest = new Regex(@"^GET /(?:v[0-9.]+/)?events\?(?![^ ]*until=)", RegexOptions.CultureInvariant);
        private static readonly Regex StartRequest = new Regex(@"^POST /(?:v[0-9.]+/)?containers/([^/?]+)/start(?:[? ]|$)", RegexOptions.CultureInvariant);
        private readonly string _upstream;
        private readonly Socket _listener;
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly ProxiedPairs _pairs = new ProxiedPairs();
        private readonly List<string> _requests = new List<string>();
        private int _connections;
        private int _open;
        private int _peakOpen;
        private volatile RequestRule _hold = RequestRule.None;
        private volatile RequestRule _refuse = RequestRule.None;
        private Func<string, bool> _dropEvent;
        private int _dropped;
        private volatile bool _framed;
        private volatile Func<string, bool> _delayAnswer = _ => false;
        private volatile TaskCompletionSource _released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _delayed;
        private volatile RequestRule _delayRequest = RequestRule.None;
        private volatile Func<string, TimeSpan> _delayRequestBy = _ => TimeSpan.Zero;
        private int _delayedRequests;
        private volatile RequestRule _notFound = RequestRule.None;
        private int _notFoundAnswered;
        private int _heldRequests;
        private readonly TaskCompletionSource<string> _held = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <param name="engineEndpoint">The engine's unix:// endpoint, e.g. unix:///run/docker.sock.</param>
        public HoldingEngineProxy(string engineEndpoint)
        {
            ArgumentNullException.ThrowIfNull(engineEndpoint);
            if (!engineEndpoint.StartsWith("unix://", StringComparison.Ordinal)) throw new ArgumentException("A unix:// engine endpoint is needed: " + engineEndpoint, nameof(engineEndpoint));
            _upstream = engineEndpoint.Substring("unix://".Length);
            SocketPath = Path.Combine(Path.GetTempPath(), $"dyadports-hold-{Guid.NewGuid():N}.sock");
            _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            _listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
            // As deep as an engine's own (Go's listeners take the kernel's somaxconn): a view that replays a busy minute
            // inspects dozens of containers at once, each on a connection of its own, and a backlog of 16 refused some of
            // them (the view then listed again, which a clock test counts as a failure; reproduced after a burst of 60).
            _listener.Listen(512);
            _ = Task.Run(AcceptLoop);
        }

        public string SocketPath { get; }

        /// <summary>unix:// + <see cref="SocketPath"/>: the endpoint to give the start.</summary>
        public string Endpoint => "unix://" + SocketPath;

        /// <summary>
        /// Waits until a start is held (its container id or name) or <paramref name="giveUp"/> says to stop (a client that
        /// ended, say) or <paramref name="timeout"/> passes (null then).
        /// </summary>
        public string WaitForHeldStart(TimeSpan timeout, Func<bool> giveUp)
        {
            ArgumentNullException.ThrowIfNull(giveUp);
            var until = DateTime.UtcNow + timeout;
            while (!_held.Task.IsCompleted && !giveUp() && DateTime.UtcNow < until) _held.Task.Wait(TimeSpan.FromMilliseconds(200));
            return _held.Task.IsCompletedSuccessfully ? _held.Task.Result : null;
        }

        /// <summary>Every request line seen so far (for a failure's message).</summary>
        public IReadOnlyList<string> Requests
        {
            get { lock (_requests) return _requests.ToArray(); }
        }

        private async Task AcceptLoop()
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException || e is SocketException || e is ObjectDisposedException)
                {
                    return;
                }
                Interlocked.Increment(ref _connections);
                var open = Interlocked.Increment(ref _open);
                int peak;
                while (open > (peak = Volatile.Read(ref _peakOpen)) && Interlocked.CompareExchange(ref _peakOpen, open, peak) != peak)
                {
                }
                _ = Task.Run(() => Pair(client));
            }
        }

        /// <summary>How many connections the proxy took so far.</summary>
        public int Connections => Volatile.Read(ref _connections);

        /// <summary>How many of them are open now (a held start's stays open until Dispose).</summary>
        public int OpenConnections => Volatile.Read(ref _open);

        /// <summary>The most connections open at once since the last <see cref="ResetPeak"/>.</summary>
        public int PeakOpenConnections => Volatile.Read(ref _peakOpen);

        /// <summary>Starts counting <see cref="PeakOpenConnections"/> from the connections open now.</summary>
        public void ResetPeak() => Volatile.Write(ref _peakOpen, OpenConnections);

        /// <summary>
        /// From now on the engine is silent, as a host powered off or a split network looks: every new request is held
        /// unanswered and nothing is closed (a stream already open stays open and, with no container changing, says nothing).
        /// </summary>
        public void Freeze() => _hold = new RequestRule(_ => true);

        /// <summary>
        /// From now on the requests whose request line (<c>GET /v1.41/containers/…/json HTTP/1.1</c>) matches are held
        /// unanswered, their connections left open; every other request passes as before: an engine slow on some calls only.
        /// </summary>
        public void Hold(Func<string, bool> requestLine) => _hold = new RequestRule(requestLine);

        /// <summary>
        /// From now on the requests whose request line matches are answered by the proxy itself with 403 and the page
        /// HAProxy gives, never passed on: docker-socket-proxy in front of an engine, with that part of the API turned off.
        /// </summary>
        public void Refuse(Func<string, bool> requestLine) => _refuse = new RequestRule(requestLine);

        /// <summary>
        /// From now on the next <paramref name="times"/> requests whose request line matches are answered by the proxy
        /// itself with 404 and an engine's "No such container" message, never passed on: dockerd answers an inspect so for
        /// a container it lists while it is still creating it.
        /// </summary>
        public void AnswerNotFound(Func<string, bool> requestLine, int times) => _notFound = new RequestRule(requestLine, times);

        /// <summary>How many requests <see cref="AnswerNotFound"/> has answered so far.</summary>
        public int NotFoundAnswered => Volatile.Read(ref _notFoundAnswered);

        private static readonly byte[] NotFound = Encoding.ASCII.GetBytes(
            "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 41\r\n\r\n" +
            "{\"message\":\"No such container: (proxy)\"}\n");

        private static readonly byte[] Forbidden = Encoding.ASCII.GetBytes(
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\nContent-Length: 93\r\nCache-Control: no-cache\r\n\r\n" +
            "<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n");

        /// <summary>
        /// For connections opened from now on: every event whose JSON line matches is taken out of each event stream (GET
        /// /events without until=), as an engine's stream that never delivers an event would look; a bounded events query
        /// (with until=, an engine view's catch-up) still carries it. Call it before the client connects.
        /// </summary>
        public void DropFromEventStreams(Func<string, bool> eventLine) => Volatile.Write(ref _dropEvent, eventLine ?? throw new ArgumentNullException(nameof(eventLine)));

        /// <summary>
        /// For connections opened from now on, answers pass one by one (framed), so that <see cref="DelayAnswers"/> can hold
        /// some. Call it before the client connects.
        /// </summary>
        public void FrameAnswers() => _framed = true;

        /// <summary>
        /// From now on the engine's answers to the requests whose request line matches are held, whole, until
        /// <see cref="ReleaseAnswers"/>: the engine has answered (as it was then), and the client has not heard it yet. Only on
        /// connections opened after <see cref="FrameAnswers"/>.
        /// </summary>
        public void DelayAnswers(Func<string, bool> requestLine)
        {
            _released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _delayAnswer = requestLine ?? throw new ArgumentNullException(nameof(requestLine));
        }

        /// <summary>Passes on the answers <see cref="DelayAnswers"/> held, and holds no more.</summary>
        public void ReleaseAnswers()
        {
            _delayAnswer = _ => false;
            _released.TrySetResult();
        }

        /// <summary>
        /// From now on the next <paramref name="times"/> requests whose request line matches reach the engine late, by what
        /// <paramref name="by"/> says for each. A catch-up so delayed past its until= finds podman 4.3 reading nothing (it
        /// stops reading its events file at until=, wherever it is), as a read slower than the window is cut; dockerd
        /// answers it from memory all the same.
        /// </summary>
        public void DelayRequests(Func<string, bool> requestLine, Func<string, TimeSpan> by, int times)
        {
            _delayRequestBy = by ?? throw new ArgumentNullException(nameof(by));
            _delayRequest = new RequestRule(requestLine, times);
        }

        /// <summary>How many requests <see cref="DelayRequests"/> has delayed so far.</summary>
        public int DelayedRequests => Volatile.Read(ref _delayedRequests);

        /// <summary>How many requests <see cref="Hold"/> or <see cref="Freeze"/> has held so far.</summary>
        public int HeldRequests => Volatile.Read(ref _heldRequests);

        /// <summary>How many answers <see cref="DelayAnswers"/> has held so far.</summary>
        public int DelayedAnswers => Volatile.Read(ref _delayed);

        /// <summary>How many events <see cref="DropFromEventStreams"/> has taken out so far.</summary>
        public int DroppedEvents => Volatile.Read(ref _dropped);

        /// <summary>
        /// How many event streams the engine itself ended so far (their last chunk, or their connection closed from its
        /// side): podman ends every stream when it truncates its events file at its size limit. Counted on the connections
        /// whose answers the proxy frames (<see cref="DropFromEventStreams"/>, <see cref="FrameAnswers"/>).
        /// </summary>
        public int EventStreamsEndedByEngine => Volatile.Read(ref _streamsEnded);
        private int _streamsEnded;

        /// <summary>
        /// The requests one of the proxy's rules applies to: those whose request line matches, the next so many times (or
        /// every time). Replaced whole when the rule is set again, so a request never sees one rule's test with another's count.
        /// </summary>
        private sealed class RequestRule
        {
            public static readonly RequestRule None = new RequestRule(_ => false, 0);
            private readonly Func<string, bool> _matches;
            private int _left;

            public RequestRule(Func<string, bool> requestLine, int times = int.MaxValue)
            {
                _matches = requestLine ?? throw new ArgumentNullException(nameof(requestLine));
                _left = times;
            }

            /// <summary>Whether the rule applies to this request; counts it when it does.</summary>
            public bool Takes(string requestLine)
            {
                if (Volatile.Read(ref _left) <= 0 || !_matches(requestLine)) return false;
                return _left == int.MaxValue || Interlocked.Decrement(ref _left) >= 0;
            }
        }

        private async Task Pair(Socket client)
        {
            var server = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            _pairs.Add(client, server);
            try
            {
                await server.ConnectAsync(new UnixDomainSocketEndPoint(_upstream), _stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException || e is SocketException || e is ObjectDisposedException)
            {
                _pairs.Close(client, server);
                Interlocked.Decrement(ref _open);
                return;
            }
            var requestLines = System.Threading.Channels.Channel.CreateUnbounded<string>();
            var up = PassRequests(client, server, requestLines.Writer);
            var drop = Volatile.Read(ref _dropEvent);
            var down = drop == null && !_framed ? ProxiedPairs.Pump(server, client, _stop.Token) : PassAnswers(server, client, requestLines.Reader, drop ?? (_ => false));
            var first = await Task.WhenAny(up, down).ConfigureAwait(false);
            if (first == up && up.Result) return; // a held start: both sockets stay open, unanswered, until Dispose
            _pairs.Close(client, server);
            Interlocked.Decrement(ref _open);
        }

        /// <summary>Passes requests on one by one until the client closes (false) or a start is held (true).</summary>
        private async Task<bool> PassRequests(Socket client, Socket server, System.Threading.Channels.ChannelWriter<string> requestLines)
        {
            var reader = new Reader(client, _stop.Token);
            try
            {
                while (true)
                {
                    var head = await reader.ReadHead().ConfigureAwait(false);
                    if (head == null) return false;
                    var text = Encoding.ASCII.GetString(head);
                    var requestLine = text.Substring(0, text.IndexOf('\n', StringComparison.Ordinal)).TrimEnd('\r');
                    lock (_requests) _requests.Add(requestLine);
                    if (_hold.Takes(requestLine))
                    {
                        Interlocked.Increment(ref _heldRequests);
                        return true; // held, unanswered, the connection left open
                    }
                    if (_refuse.Takes(requestLine))
                    {
                        // A GET has no body to pass; the client sends one request at a time, so nothing of the engine's is under way here.
                        await Send(client, Forbidden).ConfigureAwait(false);
                        continue;
                    }
                    if (_notFound.Takes(requestLine))
                    {
                        Interlocked.Increment(ref _notFoundAnswered);
                        await Send(client, NotFound).ConfigureAwait(false);
                        continue;
                    }
                    var start = StartRequest.Match(requestLine);
                    if (start.Success)
                    {
                        _held.TrySetResult(Uri.UnescapeDataString(start.Groups[1].Value));
                        return true;
                    }
                    if (_delayRequest.Takes(requestLine))
                    {
                        Interlocked.Increment(ref _delayedRequests);
                        await Task.Delay(_delayRequestBy(requestLine), _stop.Token).ConfigureAwait(false);
                    }
                    await Send(server, head).ConfigureAwait(false);
                    requestLines.TryWrite(requestLine);
                    var headers = Headers(text);
                    await CopyFramedBody(reader, server, headers, CopyChunked).ConfigureAwait(false); // none framed: a request without a body
                    if (headers.ContainsKey("upgrade"))
                    {
                        await Send(server, reader.TakeBuffered()).ConfigureAwait(false);
                        await ProxiedPairs.Pump(client, server, _stop.Token).ConfigureAwait(false); // hijacked: bytes from now on
                        return false;
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException || e is SocketException || e is ObjectDisposedException || e is EndOfStreamException)
            {
                return false;
            }
        }

        /// <summary>
        /// Passes the engine's answers one by one, each framed by its head (Content-Length, chunked, or to the close), and
        /// takes the matching events out of an event stream's chunks; an upgraded connection passes bytes from then on.
        /// </summary>
        private async Task PassAnswers(Socket server, Socket client, System.Threading.Channels.ChannelReader<string> requestLines, Func<string, bool> drop)
        {
            var reader = new Reader(server, _stop.Token);
            try
            {
                while (true)
                {
                    var head = await reader.ReadHead().ConfigureAwait(false);
                    if (head == null) return;
                    var text = Encoding.ASCII.GetString(head);
                    var status = int.Parse(text.Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture);
                    var headers = Headers(text);
                    if (status == 101 || headers.ContainsKey("upgrade"))
                    {
                        await Send(client, head).ConfigureAwait(false);
                        await Send(client, reader.TakeBuffered()).ConfigureAwait(false);
                        await ProxiedPairs.Pump(server, client, _stop.Token).ConfigureAwait(false);
                        return;
                    }
                    if (status < 200)
                    {
                        await Send(client, head).ConfigureAwait(false);
                        continue; // an interim answer: the final one for the same request follows
                    }
                    var requestLine = await requestLines.ReadAsync(_stop.Token).ConfigureAwait(false);
                    if (_delayAnswer(requestLine))
                    {
                        // The engine has begun its answer (its head is here), so the answer is the engine as it was then;
                        // the client hears it only when released.
                        var released = _released.Task;
                        Interlocked.Increment(ref _delayed);
                        await released.WaitAsync(_stop.Token).ConfigureAwait(false);
                    }
                    await Send(client, head).ConfigureAwait(false);
                    if (status == 204 || status == 304 || requestLine.StartsWith("HEAD ", StringComparison.Ordinal)) continue;
                    Func<Reader, Socket, Task> chunks = EventStreamRequest.IsMatch(requestLine) ? (r, to) => DropFromChunks(r, to, drop) : CopyChunked;
                    if (!await CopyFramedBody(reader, client, headers, chunks).ConfigureAwait(false))
                    {
                        await Send(client, reader.TakeBuffered()).ConfigureAwait(false);
                        await ProxiedPairs.Pump(server, client, _stop.Token).ConfigureAwait(false); // the body ends with the connection
                        return;
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException || e is SocketException || e is ObjectDisposedException || e is EndOfStreamException || e is System.Threading.Channels.ChannelClosedException)
            {
                // the pair is closed
            }
        }

        /// <summary>
        /// A body framed by its head: chunked (passed on by <paramref name="chunks"/>) or by Content-Length; false when the
        /// head frames none (a request then has no body; an answer's ends with the connection).
        /// </summary>
        private static async Task<bool> CopyFramedBody(Reader reader, Socket to, Dictionary<string, string> headers, Func<Reader, Socket, Task> chunks)
        {
            if (headers.TryGetValue("transfer-encoding", out var te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            {
                await chunks(reader, to).ConfigureAwait(false);
                return true;
            }
            if (headers.TryGetValue("content-length", out var length) && long.TryParse(length, out var n))
            {
                if (n > 0) await Send(to, await reader.ReadExactly(n).ConfigureAwait(false)).ConfigureAwait(false);
                return true;
            }
            return false;
        }

        /// <summary>An event stream's chunked body, line by line (one event per line): each line kept is sent as a chunk of its own.</summary>
        private async Task DropFromChunks(Reader reader, Socket to, Func<string, bool> drop)
        {
            var pending = new List<byte>();
            while (true)
            {
                long size;
                try
                {
                    size = ChunkSize(await reader.ReadLine().ConfigureAwait(false));
                }
                catch (EndOfStreamException)
                {
                    Interlocked.Increment(ref _streamsEnded); // the engine closed the connection mid-stream
                    throw;
                }
                if (size == 0)
                {
                    Interlocked.Increment(ref _streamsEnded);
                    if (pending.Count > 0) await SendChunk(to, pending.ToArray()).ConfigureAwait(false);
                    await Send(to, Encoding.ASCII.GetBytes("0\r\n")).ConfigureAwait(false);
                    await CopyTrailers(reader, to).ConfigureAwait(false);
                    return;
                }
                pending.AddRange(await reader.ReadExactly(size).ConfigureAwait(false));
                await reader.ReadLine().ConfigureAwait(false); // the data's line end
                int end;
                while ((end = pending.IndexOf((byte)'\n')) >= 0)
                {
                    var line = pending.GetRange(0, end + 1).ToArray();
                    pending.RemoveRange(0, end + 1);
                    if (drop(Encoding.UTF8.GetString(line))) Interlocked.Increment(ref _dropped);
                    else await SendChunk(to, line).ConfigureAwait(false);
                }
            }
        }

        private static Task SendChunk(Socket to, byte[] data)
        {
            var framed = new List<byte>(Encoding.ASCII.GetBytes(data.Length.ToString("x", System.Globalization.CultureInfo.InvariantCulture) + "\r\n"));
            framed.AddRange(data);
            framed.AddRange("\r\n"u8.ToArray());
            return Send(to, framed.ToArray());
        }

        private static async Task CopyChunked(Reader reader, Socket to)
        {
            while (true)
            {
                var line = await reader.ReadLine().ConfigureAwait(false);
                await Send(to, line).ConfigureAwait(false);
                var size = ChunkSize(line);
                if (size == 0)
                {
                    await CopyTrailers(reader, to).ConfigureAwait(false);
                    return;
                }
                await Send(to, await reader.ReadExactly(size).ConfigureAwait(false)).ConfigureAwait(false);
                await Send(to, await reader.ReadLine().ConfigureAwait(false)).ConfigureAwait(false); // the data's line end
            }
        }

        /// <summary>A chunk's size line: hex, maybe with extensions after a semicolon.</summary>
        private static long ChunkSize(byte[] line)
        {
            var sizeText = Encoding.ASCII.GetString(line).Trim();
            var semicolon = sizeText.IndexOf(';', StringComparison.Ordinal);
            if (semicolon >= 0) sizeText = sizeText.Substring(0, semicolon);
            return long.Parse(sizeText, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
        }

        /// <summary>The trailers after the last chunk, up to and with the empty line that ends the body.</summary>
        private static async Task CopyTrailers(Reader reader, Socket to)
        {
            while (true)
            {
                var trailer = await reader.ReadLine().ConfigureAwait(false);
                await Send(to, trailer).ConfigureAwait(false);
                if (Encoding.ASCII.GetString(trailer).Trim().Length == 0) return;
            }
        }

        private static Dictionary<string, string> Headers(string head)
        {
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var line in head.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[1..])
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0) headers[line.Substring(0, colon).Trim()] = line.Substring(colon + 1).Trim();
            }
            return headers;
        }

        private static async Task Send(Socket to, byte[] bytes)
        {
            var sent = 0;
            while (sent < bytes.Length) sent += await to.SendAsync(bytes.AsMemory(sent), SocketFlags.None).ConfigureAwait(false);
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Dispose();
            _pairs.Dispose();
            try { File.Delete(SocketPath); }
            catch (IOException) { }
            _held.TrySetCanceled();
            _stop.Dispose();
        }

        /// <summary>Reads a client's bytes: a request head, a line, or an exact count, keeping what came beyond it.</summary>
        private sealed class Reader
        {
            private readonly Socket _socket;
            private readonly CancellationToken _token;
            private readonly byte[] _chunk = new byte[64 * 1024];
            private byte[] _buffered = Array.Empty<byte>();

            public Reader(Socket socket, CancellationToken token)
            {
                _socket = socket;
                _token = token;
            }

            /// <summary>The bytes up to and with the blank line after the headers; null when the client closed between requests.</summary>
            public async Task<byte[]> ReadHead()
            {
                while (true)
                {
                    var end = HeadLength(_buffered);
                    if (end > 0) return Take(end);
                    if (!await Fill().ConfigureAwait(false))
                    {
                        if (_buffered.Length == 0) return null;
                        throw new EndOfStreamException("The client closed mid-request.");
                    }
                }
            }

            public async Task<byte[]> ReadLine()
            {
                while (true)
                {
                    var end = _buffered.AsSpan().IndexOf((byte)'\n');
                    if (end >= 0) return Take(end + 1);
                    if (!await Fill().ConfigureAwait(false)) throw new EndOfStreamException("The client closed mid-body.");
                }
            }

            public async Task<byte[]> ReadExactly(long count)
            {
                while (_buffered.Length < count)
                {
                    if (!await Fill().ConfigureAwait(false)) throw new EndOfStreamException("The client closed mid-body.");
                }
                return Take((int)count);
            }

            /// <summary>The length of the head up to and with its blank line (a line may end in LF alone: Docker.DotNet ends its header lines so); 0 while incomplete.</summary>
            private static int HeadLength(byte[] bytes)
            {
                for (var i = 0; i < bytes.Length; i++)
                {
                    if (bytes[i] != (byte)'\n') continue;
                    if (i + 1 < bytes.Length && bytes[i + 1] == (byte)'\n') return i + 2;
                    if (i + 2 < bytes.Length && bytes[i + 1] == (byte)'\r' && bytes[i + 2] == (byte)'\n') return i + 3;
                }
                return 0;
            }

            public byte[] TakeBuffered() => Take(_buffered.Length);

            private byte[] Take(int count)
            {
                var taken = _buffered.AsSpan(0, count).ToArray();
                _buffered = _buffered.AsSpan(count).ToArray();
                return taken;
            }

            private async Task<bool> Fill()
            {
                var n = await _socket.ReceiveAsync(_chunk, SocketFlags.None, _token).ConfigureAwait(false);
                if (n == 0) return false;
                var grown = new byte[_buffered.Length + n];
                _buffered.CopyTo(grown, 0);
                Array.Copy(_chunk, 0, grown, _buffered.Length, n);
                _buffered = grown;
                return true;
            }
        }
    }
}
