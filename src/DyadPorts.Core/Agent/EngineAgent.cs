using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Agent
{
    /// <summary>
    /// A long-running process's engine views, lent to one-shot processes (issue 18): a process that makes one call has no
    /// view of its own, so it lists every container (half a second and more at K=1,000 on podman). With an agent, it asks
    /// over a unix socket instead and gets the agent's view, as fresh as a warm session's own
    /// (<see cref="ViewTiming.FreshnessBound"/>), with the containers it changed itself inspected again for the answer. An
    /// agent that does not answer, or whose view is not live, costs the asker its list, as before: never a staler answer.
    /// </summary>
    public sealed class EngineAgent : IDisposable
    {
        /// <summary>How long a view goes unread before it ends (an endpoint no process asked about for that long).</summary>
        public static readonly TimeSpan RetireAfter = TimeSpan.FromHours(24);

        /// <summary>How long one connection may take, request and answer; an asker gives up after <see cref="AgentClient.AnswerTimeout"/>.</summary>
        public static readonly TimeSpan ConnectionTimeout = TimeSpan.FromSeconds(2);

        /// <summary>
        /// The most endpoints an agent follows at once; past them it answers that the asker should list. An endpoint whose
        /// view retired (unread for its bound) no longer counts: its client is let go when the slot is needed.
        /// </summary>
        public const int MostEndpoints = 32;

        /// <summary>The most containers one asker may say it changed; an asker sends only its recent changes.</summary>
        public const int MostChanges = 64;

        /// <summary>The most requests answered at once; past them an asker is told to list (a burst of one-shots).</summary>
        public const int MostAtOnce = 8;

        /// <summary>
        /// The most connections served at once, answered or not (each holds a socket and at most
        /// <see cref="AgentWire.MaxRequestFrame"/> bytes for <see cref="ConnectionTimeout"/>); one past them is told to list,
        /// unread, and closed at once (<see cref="DeclineUnread"/>).
        /// </summary>
        public const int MostConnections = 64;

        private readonly EngineViews _views;
        private readonly ConcurrentDictionary<string, ContainerEngine> _clients = new ConcurrentDictionary<string, ContainerEngine>(StringComparer.Ordinal);
        private readonly object _clientsGate = new object(); // a client is taken and followed, or let go, under it
        private readonly Dictionary<ContainerEngine, int> _inUse = new Dictionary<ContainerEngine, int>(); // answers reading each client; under _clientsGate
        private readonly ConcurrentDictionary<Task, byte> _serving = new ConcurrentDictionary<Task, byte>();
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly SemaphoreSlim _answering = new SemaphoreSlim(MostAtOnce, MostAtOnce);
        private readonly SemaphoreSlim _connections = new SemaphoreSlim(MostConnections, MostConnections);
        private readonly TimeSpan _connectionTimeout;
        private CrossProcessLock _lock;
        private Socket _listener;
        private long _answered, _declined, _refused, _failed, _changesInspected;
        private int _disposed;

        /// <param name="socketPath">Where to listen (<see cref="AgentSocket.Resolve"/>).</param>
        /// <param name="views">
        /// The views to lend; null for new ones, lent (<see cref="EngineView.AlwaysInUse"/>), that retire after <see cref="RetireAfter"/>
        /// unread, or after a session view's <see cref="ViewTiming.RetireAfter"/> when they never answered (an endpoint mistyped, a host gone).
        /// </param>
        /// <param name="connectionTimeout">How long one connection may take, request and answer; null for <see cref="ConnectionTimeout"/>.</param>
        public EngineAgent(string socketPath, EngineViews views = null, TimeSpan? connectionTimeout = null)
        {
            SocketPath = socketPath ?? throw new ArgumentNullException(nameof(socketPath));
            _views = views ?? new EngineViews(retireAfter: RetireAfter, lent: true, retireNeverLiveAfter: ViewTiming.RetireAfter);
            _connectionTimeout = connectionTimeout ?? ConnectionTimeout;
            if (_connectionTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(connectionTimeout), _connectionTimeout, "A connection's bound must be positive.");
        }

        public string SocketPath { get; }

        /// <summary>The lock file beside the socket: whoever holds it owns the socket's path, to clear, bind and remove.</summary>
        public string LockPath => SocketPath + ".lock";

        /// <summary>Requests answered with a view.</summary>
        public long Answered => Interlocked.Read(ref _answered);
        /// <summary>Requests answered with "list it yourself" (the view not live, behind, too many endpoints, changes, askers or connections).</summary>
        public long Declined => Interlocked.Read(ref _declined);
        /// <summary>Connections from another user, refused unread.</summary>
        public long Refused => Interlocked.Read(ref _refused);
        /// <summary>Connections that ended before a whole request and answer (cut, malformed, timed out).</summary>
        public long Failed => Interlocked.Read(ref _failed);
        /// <summary>Containers an asker said it changed, inspected again for its answer.</summary>
        public long ChangesInspected => Interlocked.Read(ref _changesInspected);

        /// <summary>Whether the view of an endpoint answers now.</summary>
        public bool IsLive(string endpoint) => _views.IsLive(endpoint);

        /// <summary>When <see cref="Listen"/> began to listen; default before.</summary>
        public DateTimeOffset StartedAt { get; private set; }

        /// <summary>
        /// What Get-DyadPortAgent reports (a status request, <see cref="AgentWire.StatusVersion"/>): this process, when it
        /// began to listen, its counters, and each endpoint whose view has not retired, with whether that view answers now.
        /// </summary>
        public AgentInfo Status() => new AgentInfo
        {
            Path = SocketPath,
            ProcessId = Environment.ProcessId,
            StartedAt = StartedAt,
            Answered = Answered,
            Declined = Declined,
            Refused = Refused,
            Failed = Failed,
            ChangesInspected = ChangesInspected,
            Endpoints = _views.Started.Where(v => !v.IsRetired)
                .Select(v => new AgentEndpointInfo { Endpoint = v.Endpoint, Engine = v.Kind, Live = v.Answers, Lists = v.Lists, EngineCalls = v.Calls })
                .OrderBy(e => e.Endpoint, StringComparer.Ordinal).ToList(),
        };

        /// <summary>
        /// Takes the path (its lock file, held for the agent's life: a second agent is AgentSocketInUse), then binds the
        /// socket (0600, in a 0700 folder of this user's). A socket at the path is then a dead agent's, and is removed (one
        /// that still answers is refused: AgentSocketInUse); anything else there is left alone (AgentSocketUnsafe).
        /// </summary>
        public void Listen()
        {
            if (!OperatingSystem.IsLinux() || !AgentSocket.Supported) throw AgentSocket.Unsupported(SocketPath);
            if (!AgentSocket.Fits(SocketPath)) throw AgentSocket.TooLong(SocketPath, "The agent's socket");
            AgentSocket.PrepareFolder(SocketPath);
            TakeLock();
            try
            {
                ClearDeadAgent();
                var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
                    File.SetUnixFileMode(SocketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                    listener.Listen(64);
                    StartedAt = DateTimeOffset.UtcNow;
                }
                catch (Exception e) when (e is SocketException || e is IOException || e is UnauthorizedAccessException)
                {
                    listener.Dispose();
                    if (e is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse }) throw InUse(e);
                    throw new DyadPortsException(ErrorIds.AgentListenFailed, FailureCategory.ResourceUnavailable, SocketPath,
                        $"The agent could not listen at {SocketPath}: {e.Message}", e);
                }
                _listener = listener;
            }
            catch
            {
                _lock.Dispose();
                _lock = null;
                throw;
            }
        }

        /// <summary>Starts following an endpoint now, before any process asks (a warm agent answers its first asker).</summary>
        public void Follow(string endpoint, EngineKind kind, EngineTls tls) => _views.Follow(Client(ContainerEngine.ClientKey(endpoint, tls), endpoint, kind, tls), kind);

        /// <summary>Serves connections until <paramref name="stop"/> (or <see cref="Dispose"/>); each on a task of its own.</summary>
        public async Task RunAsync(CancellationToken stop)
        {
            var listener = _listener ?? throw new InvalidOperationException("Listen first.");
            using var both = CancellationTokenSource.CreateLinkedTokenSource(stop, _stop.Token);
            while (!both.IsCancellationRequested)
            {
                Socket connection;
                try
                {
                    connection = await listener.AcceptAsync(both.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                catch (ObjectDisposedException)
                {
                    break;
                }
                catch (SocketException)
                {
                    // Out of descriptors, or the like: the next accept may succeed; not a hot loop meanwhile.
                    await Task.Delay(100, CancellationToken.None).ConfigureAwait(false);
                    continue;
                }
                bool admitted;
                try
                {
                    admitted = _connections.Wait(0, CancellationToken.None);
                }
                catch (ObjectDisposedException)
                {
                    connection.Dispose(); // the agent is stopping
                    break;
                }
                if (!admitted)
                {
                    DeclineUnread(connection);
                    continue;
                }
                var serving = ServeAsync(connection);
                _serving.TryAdd(serving, 0);
                _ = serving.ContinueWith(done => _serving.TryRemove(done, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            stop.ThrowIfCancellationRequested();
        }

        /// <summary>
        /// Answers one request (the unit of a connection, without its socket): the view's snapshot, with each container the
        /// asker changed inspected again and put in as the engine has it now (or taken out, when it is gone or the asker
        /// removed it). The asker's own changes are then in the answer whatever the view's stream has delivered, and
        /// whatever another asker's read of the same view took meanwhile.
        /// </summary>
        public AgentAnswer Answer(AgentRequest request, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(request);
            if (Volatile.Read(ref _disposed) == 1) return Decline("it is stopping");
            if (request.Kind is not (EngineKind.Docker or EngineKind.Podman)) return Decline($"it follows Docker and Podman engines, not {request.Kind}");
            if (request.Changed.Count > MostChanges) return Decline($"the asker changed {request.Changed.Count} containers, more than the {MostChanges} it inspects for one answer");
            var tls = request.TlsFolder == null ? null : new EngineTls(request.TlsFolder, request.TlsSource ?? "the asker");
            var key = ContainerEngine.ClientKey(request.Endpoint, tls);
            var (client, letGo, declined) = TakeClient(key, request, tls);
            LetGo(letGo); // views ended and clients disposed off the gate: an ending view may take seconds
            if (declined != null) return Decline(declined);
            try
            {
                var snapshot = _views.Read(client, request.Kind, cancellationToken);
                if (snapshot == null) return Decline($"its view of {request.Endpoint} is not live now (starting, reconnecting or catching up)");
                var containers = request.Changed.Count == 0 ? snapshot.Containers : WithChanges(snapshot.Containers, request.Changed, client, cancellationToken);
                Interlocked.Increment(ref _answered);
                return new AgentAnswer { Containers = containers };
            }
            catch (DyadPortsException e)
            {
                return Decline($"it could not inspect a container the asker changed ({e.Message})");
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw; // the connection's time is up: nothing to answer
            }
#pragma warning disable CA1031 // an inspect that failed otherwise (a socket, an HTTP or a timeout error under the client) is a decline too: the asker lists now
            catch (Exception e)
#pragma warning restore CA1031
            {
                var failed = e is AggregateException a && a.InnerExceptions.Count > 0 ? a.InnerExceptions[0] : e;
                return Decline($"it could not inspect a container the asker changed ({failed.GetType().Name}: {failed.Message})");
            }
            finally
            {
                lock (_clientsGate)
                {
                    if (--_inUse[client] == 0) _inUse.Remove(client);
                }
            }
        }

        /// <summary>
        /// The view's containers with the asker's changes as the engine has them now: each it created, started or stopped
        /// inspected again (together) and put in, each it removed, or that is gone, left out. This answer's only: the view
        /// itself hears of them from the engine's events, as of any other client's.
        /// </summary>
        private List<ContainerSummary> WithChanges(IReadOnlyList<ContainerSummary> viewed, IReadOnlyList<KeyValuePair<string, bool>> changed, ContainerEngine client, CancellationToken cancellationToken)
        {
            var ids = new HashSet<string>(changed.Select(c => c.Key), StringComparer.Ordinal);
            var containers = viewed.Where(c => !ids.Contains(c.Id)).ToList();
            var inspects = changed.Where(c => !c.Value).Select(c => client.DescribeAsync(c.Key, queued: true, cancellationToken)).ToArray();
            Interlocked.Add(ref _changesInspected, inspects.Length);
            try
            {
                Task.WaitAll(inspects, cancellationToken);
            }
            catch (AggregateException e) when (e.InnerExceptions.OfType<DyadPortsException>().FirstOrDefault() is DyadPortsException failed)
            {
                throw failed;
            }
            containers.AddRange(inspects.Select(i => i.Result).Where(now => now != null));
            return containers;
        }

        private AgentAnswer Decline(string reason)
        {
            Interlocked.Increment(ref _declined);
            return new AgentAnswer { Reason = reason };
        }

        /// <summary>
        /// A connection past <see cref="MostConnections"/>: its asker (this user's) is told to list, unread, and the
        /// connection closed. The answer is one small frame sent without waiting (a new socket's buffer takes it), so
        /// the accept loop never blocks on it; the asker reads it although its request was not read, and lists now
        /// instead of taking the closed connection for a failed agent and leaving it alone for
        /// <see cref="AgentClient.QuietAfterFailure"/>. Another user's connection is closed unanswered, as always.
        /// </summary>
        private void DeclineUnread(Socket connection)
        {
            using (connection)
            {
                try
                {
                    if (AgentSocket.PeerCredentials(connection).UserId != UnixFiles.EffectiveUserId)
                    {
                        Interlocked.Increment(ref _refused);
                        return;
                    }
                    connection.Blocking = false;
                    var wire = AgentWire.Framed(AgentWire.Encode(new AgentAnswer { Reason = $"it serves {MostConnections} connections already" }));
                    var sent = connection.Send(wire, SocketFlags.None, out var error);
                    Interlocked.Increment(ref error == SocketError.Success && sent == wire.Length ? ref _declined : ref _failed);
                }
#pragma warning disable CA1031 // a connection that could not be told is closed all the same, and counted
                catch (Exception)
                {
                    Interlocked.Increment(ref _failed);
                }
#pragma warning restore CA1031
            }
        }

        private async Task ServeAsync(Socket connection)
        {
            await Task.Yield(); // off the accept loop
            using (connection)
            {
                try
                {
                    var peer = AgentSocket.PeerCredentials(connection);
                    if (peer.UserId != UnixFiles.EffectiveUserId)
                    {
                        Interlocked.Increment(ref _refused);
                        return;
                    }
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                    timeout.CancelAfter(_connectionTimeout);
                    using var stream = new NetworkStream(connection, ownsSocket: false);
                    var received = await AgentWire.ReadFrameAsync(stream, AgentWire.MaxRequestFrame, timeout.Token).ConfigureAwait(false);
                    if (AgentWire.IsStatusRequest(received))
                    {
                        await AgentWire.WriteFrameAsync(stream, AgentWire.Encode(Status()), timeout.Token).ConfigureAwait(false);
                        return;
                    }
                    var request = AgentWire.DecodeRequest(received);
                    byte[] frame;
                    if (!AgentSocket.SharesNamespaces(peer.ProcessId))
                    {
                        // Another network or mount namespace (a toolbox, a container of the same user): its endpoint may
                        // name another engine than this agent's of the same name.
                        frame = AgentWire.Encode(Decline("the asker runs in another network or mount namespace"));
                    }
                    else if (!await _answering.WaitAsync(0, CancellationToken.None).ConfigureAwait(false))
                    {
                        frame = AgentWire.Encode(Decline($"it answers {MostAtOnce} askers already"));
                    }
                    else
                    {
                        try
                        {
                            // The answer may inspect (the asker's changes): on a thread of its own (at most MostAtOnce), not
                            // the thread pool's, so that a burst of askers does not hold up the views' own streams.
                            var answer = await Task.Factory.StartNew(() => Answer(request, timeout.Token), timeout.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
                            frame = AgentWire.Encode(answer);
                            if (frame.Length > AgentWire.MaxFrame) frame = AgentWire.Encode(Decline($"its answer would take {frame.Length} bytes, more than the {AgentWire.MaxFrame} an asker reads"));
                        }
                        finally
                        {
                            _answering.Release();
                        }
                    }
                    await AgentWire.WriteFrameAsync(stream, frame, timeout.Token).ConfigureAwait(false);
                }
#pragma warning disable CA1031 // one connection's failure (cut, malformed, timed out, cancelled, a bug) is counted and ends that connection only
                catch (Exception)
                {
                    Interlocked.Increment(ref _failed);
                }
#pragma warning restore CA1031
                finally
                {
                    ReleaseConnection();
                }
            }
        }

        private void ReleaseConnection()
        {
            try
            {
                _connections.Release();
            }
            catch (ObjectDisposedException)
            {
                // the agent was disposed while this connection ended
            }
        }

        private ContainerEngine Client(string key, string endpoint, EngineKind kind, EngineTls tls) =>
            _clients.GetOrAdd(key, _ => new ContainerEngine(endpoint, kind, tls));

        /// <summary>
        /// The endpoint's client, followed and counted as read by one more answer (until it ends), or why not; and the
        /// clients taken out meanwhile, for the caller to let go of off the gate. At most <see cref="MostEndpoints"/>
        /// whose views follow (a retired one's slot is given to a new endpoint). The kind decides what a view trusts (a
        /// catch-up's count limit is dockerd's, not podman's): one asker's word for an endpoint is not taken for another's
        /// that says otherwise while the view follows it; once it retired, the endpoint is followed anew as asked.
        /// </summary>
        private (ContainerEngine Client, List<ContainerEngine> LetGo, string Declined) TakeClient(string key, AgentRequest request, EngineTls tls)
        {
            lock (_clientsGate)
            {
                List<ContainerEngine> letGo = null;
                if (!_clients.ContainsKey(key) && _clients.Count >= MostEndpoints) letGo = LetGoOfRetired();
                if (_clients.TryGetValue(key, out var known) && known.KnownKind != request.Kind && !_views.Follows(known) && !_inUse.ContainsKey(known)
                    && _clients.TryRemove(key, out _))
                {
                    (letGo ??= new List<ContainerEngine>()).Add(known);
                }
                if (!_clients.ContainsKey(key) && _clients.Count >= MostEndpoints) return (null, letGo, $"it follows {MostEndpoints} endpoints already");
                var client = Client(key, request.Endpoint, request.Kind, tls);
                if (Volatile.Read(ref _disposed) == 1) return (null, letGo, "it is stopping");
                if (client.KnownKind != request.Kind) return (null, letGo, $"it follows {request.Endpoint} as a {client.KnownKind} engine, and this asker says {request.Kind}");
                _views.Follow(client, request.Kind);
                _inUse[client] = _inUse.TryGetValue(client, out var readers) ? readers + 1 : 1;
                return (client, letGo, null);
            }
        }

        /// <summary>
        /// Under the clients' gate: takes out every client whose view retired (an endpoint nobody asked about for its
        /// bound) and that no answer reads now; the caller lets go of them (<see cref="LetGo"/>) off the gate.
        /// </summary>
        private List<ContainerEngine> LetGoOfRetired()
        {
            var gone = new List<ContainerEngine>();
            foreach (var pair in _clients)
            {
                if (_views.Follows(pair.Value) || _inUse.ContainsKey(pair.Value) || !_clients.TryRemove(pair.Key, out var client)) continue;
                gone.Add(client);
            }
            return gone;
        }

        /// <summary>Ends the views of clients taken out, and disposes them.</summary>
        private void LetGo(List<ContainerEngine> clients)
        {
            if (clients == null) return;
            foreach (var client in clients)
            {
                _views.Drop(client);
                client.Dispose();
            }
        }

        /// <summary>
        /// The lock file beside the socket, held for the agent's life (<see cref="CrossProcessLock"/>: an flock on a file
        /// of this user's, never through a link); held by another agent, in this process or another, is AgentSocketInUse.
        /// </summary>
        private void TakeLock()
        {
            try
            {
                _lock = CrossProcessLock.Acquire(LockPath, TimeSpan.Zero, CancellationToken.None, (_, _) => InUse(null));
            }
            catch (DyadPortsException e) when (e.ErrorId != ErrorIds.AgentSocketInUse)
            {
                throw AgentSocket.Unsafe(SocketPath, $"its lock file {LockPath} could not be taken ({e.Message})", e);
            }
        }

        /// <summary>Under the lock: removes a dead agent's socket; refuses one that answers, and anything that is not this user's socket.</summary>
        private void ClearDeadAgent()
        {
            var found = UnixFiles.StatEntry(SocketPath, out var errno);
            if (found is not UnixFileInfo entry)
            {
                if (errno == UnixFiles.ErrorNotFound) return;
                throw AgentSocket.Unsafe(SocketPath, $"what is there could not be checked ({UnixFiles.Describe(errno)})");
            }
            if (!entry.IsSocket) throw AgentSocket.Unsafe(SocketPath, "something that is not a socket is there, and it is left as it is");
            if (entry.OwnerId != UnixFiles.EffectiveUserId) throw AgentSocket.Unsafe(SocketPath, $"the socket there belongs to user {entry.OwnerId}");
            using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            {
                try
                {
                    using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                    probe.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), bounded.Token).AsTask().GetAwaiter().GetResult();
                    throw InUse(null); // an agent of an older DyadPorts, which took no lock
                }
                catch (OperationCanceledException e)
                {
                    throw InUse(e); // it is there and neither answers nor refuses (a full backlog): not ours to remove
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
                {
                    // nobody listens: a dead agent's socket
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressNotAvailable)
                {
                    return; // gone meanwhile
                }
                catch (SocketException e)
                {
                    throw InUse(e); // it is there and did not refuse (a full backlog, say): not ours to remove
                }
            }
            try
            {
                File.Delete(SocketPath);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw AgentSocket.Unsafe(SocketPath, $"a dead agent's socket there could not be removed ({e.Message})", e);
            }
        }

        private DyadPortsException InUse(Exception inner) =>
            new DyadPortsException(ErrorIds.AgentSocketInUse, FailureCategory.ResourceExists, SocketPath,
                $"Another DyadPorts agent listens at {SocketPath}. Stop it first, or give this one another path (-Path, or {AgentSocket.Variable}).", inner);

        /// <summary>
        /// Stops serving, waits a little for the connections under way, removes the socket it bound (the path is its own
        /// while it holds the lock), releases the lock, and ends the views and their clients.
        /// </summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
            _stop.Cancel();
            _listener?.Dispose(); // .NET removes the file the socket bound as well
            try
            {
                Task.WaitAll(_serving.Keys.ToArray(), _connectionTimeout);
            }
            catch (AggregateException)
            {
                // each connection counted its own failure
            }
            if (_listener != null)
            {
                try
                {
                    File.Delete(SocketPath);
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    // left for the next agent, which removes a socket nobody answers at
                }
            }
            _lock?.Dispose();
            _views.Dispose();
            foreach (var client in _clients.Values) client.Dispose();
            _stop.Dispose();
            _answering.Dispose();
            _connections.Dispose();
        }
    }
}
