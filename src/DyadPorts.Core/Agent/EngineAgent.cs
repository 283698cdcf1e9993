using System;
using System.Collections.Concurrent;
using System.IO;
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
    /// (<see cref="ViewTiming.FreshnessBound"/>), with the containers it changed itself inspected first. An agent that does
    /// not answer, or whose view is not live, costs the asker its list, as before: never a staler answer.
    /// </summary>
    public sealed class EngineAgent : IDisposable
    {
        /// <summary>How long a view goes unread before it ends (an endpoint no process asked about for that long).</summary>
        public static readonly TimeSpan RetireAfter = TimeSpan.FromHours(24);

        /// <summary>How long one connection may take to send its request and take the answer.</summary>
        public static readonly TimeSpan ConnectionTimeout = TimeSpan.FromSeconds(5);

        /// <summary>The most endpoints an agent follows; past them it answers that the asker should list.</summary>
        public const int MostEndpoints = 32;

        private readonly EngineViews _views;
        private readonly ConcurrentDictionary<string, ContainerEngine> _clients = new ConcurrentDictionary<string, ContainerEngine>(StringComparer.Ordinal);
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private Socket _listener;
        private long _answered, _declined, _refused, _failed;

        /// <param name="socketPath">Where to listen (<see cref="AgentSocket.Resolve"/>).</param>
        /// <param name="views">The views to lend; null for new ones that retire after <see cref="RetireAfter"/>.</param>
        public EngineAgent(string socketPath, EngineViews views = null)
        {
            SocketPath = socketPath ?? throw new ArgumentNullException(nameof(socketPath));
            _views = views ?? new EngineViews(retireAfter: RetireAfter);
        }

        public string SocketPath { get; }

        /// <summary>Requests answered with a view.</summary>
        public long Answered => Interlocked.Read(ref _answered);
        /// <summary>Requests answered with "list it yourself" (the view not live, behind, or too many endpoints).</summary>
        public long Declined => Interlocked.Read(ref _declined);
        /// <summary>Connections from another user, refused unread.</summary>
        public long Refused => Interlocked.Read(ref _refused);
        /// <summary>Connections that ended before a whole request and answer (cut, malformed, timed out).</summary>
        public long Failed => Interlocked.Read(ref _failed);

        /// <summary>Whether the view of an endpoint answers now.</summary>
        public bool IsLive(string endpoint) => _views.IsLive(endpoint);

        /// <summary>
        /// Binds the socket (0600, in a 0700 folder of this user's). A socket there that answers is another agent's
        /// (AgentSocketInUse); one that does not is a dead agent's, and is removed; anything else there is left alone and
        /// refused (AgentSocketUnsafe).
        /// </summary>
        public void Listen()
        {
            if (!OperatingSystem.IsLinux() || !AgentSocket.Supported)
            {
                throw new DyadPortsException(ErrorIds.AgentUnsupported, FailureCategory.NotImplemented, SocketPath,
                    "The DyadPorts agent runs on Linux only (it checks who connects with SO_PEERCRED).");
            }
            AgentSocket.PrepareFolder(SocketPath);
            ClearDeadAgent();
            var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
                File.SetUnixFileMode(SocketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                listener.Listen(64);
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

        /// <summary>Starts following an endpoint now, before any process asks (a warm agent answers its first asker).</summary>
        public void Follow(string endpoint, EngineKind kind, EngineTls tls) => _views.Follow(Client(endpoint, kind, tls), kind);

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
                    await Task.Delay(100, both.Token).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
                    continue;
                }
                _ = Task.Run(() => Serve(connection), CancellationToken.None);
            }
            stop.ThrowIfCancellationRequested();
        }

        /// <summary>Answers one request (the unit of <see cref="Serve"/>, without its socket).</summary>
        public AgentAnswer Answer(AgentRequest request, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(request);
            if (request.Kind is not (EngineKind.Docker or EngineKind.Podman)) return Decline($"it follows Docker and Podman engines, not {request.Kind}");
            var tls = request.TlsFolder == null ? null : new EngineTls(request.TlsFolder, request.TlsSource ?? "the asker");
            var key = Key(request.Endpoint, tls);
            if (!_clients.ContainsKey(key) && _clients.Count >= MostEndpoints) return Decline($"it follows {MostEndpoints} endpoints already");
            var client = Client(request.Endpoint, request.Kind, tls);
            _views.Follow(client, request.Kind);
            foreach (var change in request.Changed) _views.Touched(client, change.Key, change.Value);
            EngineSnapshot snapshot;
            try
            {
                snapshot = _views.Read(client, request.Kind, cancellationToken);
            }
            catch (DyadPortsException e)
            {
                return Decline($"its view could not inspect a container the asker changed ({e.Message})");
            }
            if (snapshot == null) return Decline($"its view of {request.Endpoint} is not live now (starting, reconnecting or catching up)");
            Interlocked.Increment(ref _answered);
            return new AgentAnswer { Containers = snapshot.Containers };
        }

        private AgentAnswer Decline(string reason)
        {
            Interlocked.Increment(ref _declined);
            return new AgentAnswer { Reason = reason };
        }

        private void Serve(Socket connection)
        {
            using (connection)
            {
                try
                {
                    if (!AgentSocket.PeerIsSelf(connection))
                    {
                        Interlocked.Increment(ref _refused);
                        return;
                    }
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                    timeout.CancelAfter(ConnectionTimeout);
                    connection.ReceiveTimeout = connection.SendTimeout = (int)ConnectionTimeout.TotalMilliseconds;
                    using var stream = new NetworkStream(connection, ownsSocket: false);
                    var request = AgentWire.DecodeRequest(AgentWire.ReadFrame(stream));
                    AgentWire.WriteFrame(stream, AgentWire.Encode(Answer(request, timeout.Token)));
                }
#pragma warning disable CA1031 // one connection's failure (cut, malformed, timed out, cancelled, a bug) is counted and ends that connection only
                catch (Exception)
                {
                    Interlocked.Increment(ref _failed);
                }
#pragma warning restore CA1031
            }
        }

        private ContainerEngine Client(string endpoint, EngineKind kind, EngineTls tls) =>
            _clients.GetOrAdd(Key(endpoint, tls), _ => new ContainerEngine(endpoint, kind, tls));

        private static string Key(string endpoint, EngineTls tls) => tls == null ? endpoint : endpoint + "|" + tls.CaPath + "|" + tls.CertPath + "|" + tls.KeyPath;

        /// <summary>Removes a dead agent's socket; refuses a live one, and anything that is not this user's socket.</summary>
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
                    probe.Connect(new UnixDomainSocketEndPoint(SocketPath));
                    throw InUse(null);
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
                {
                    // nobody listens: a dead agent's socket
                }
            }
            File.Delete(SocketPath);
        }

        private DyadPortsException InUse(Exception inner) =>
            new DyadPortsException(ErrorIds.AgentSocketInUse, FailureCategory.ResourceExists, SocketPath,
                $"Another DyadPorts agent listens at {SocketPath}. Stop it first, or give this one another path (-Path, or {AgentSocket.Variable}).", inner);

        /// <summary>Stops serving, removes the socket it bound, and ends the views and their clients.</summary>
        public void Dispose()
        {
            if (_stop.IsCancellationRequested) return;
            _stop.Cancel();
            if (_listener != null)
            {
                _listener.Dispose();
                try
                {
                    File.Delete(SocketPath);
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    // left for the next agent, which removes a socket nobody answers at
                }
            }
            _views.Dispose();
            foreach (var client in _clients.Values) client.Dispose();
            _stop.Dispose();
        }
    }
}
