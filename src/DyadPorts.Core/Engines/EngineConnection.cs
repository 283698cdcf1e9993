using System;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet;
using Docker.DotNet.Models;
using DyadPorts.Core.Diagnostics;

namespace DyadPorts.Core.Engines
{
    /// <summary>
    /// One Docker-API endpoint's Docker.DotNet client, and the one place its calls run: the client is made on the first
    /// call (so unloadable TLS files fail that call, EngineUnreachable, not a constructor), leased to each call, and
    /// replaced by <see cref="Reconnect"/>; a call already under way on the old client finishes on it, and the old client
    /// is disposed when its last call ends. Nothing from Docker.DotNet leaves a call (<see cref="Call{T}"/>,
    /// <see cref="CallAsync{T}"/>): the engine's refusals become <see cref="EngineRefusedException"/>, anything else short
    /// of the caller's cancellation EngineUnreachable. A <see cref="Stream"/>'s end is its follower's to judge.
    /// </summary>
    internal sealed class EngineConnection : IDisposable
    {
        private readonly object _gate = new object();
        private ClientLease _current;
        private CancellationTokenSource _streams;
        private bool _disposed;
        private long _calls;

        public EngineConnection(string endpoint, EngineTls tls)
        {
            Endpoint = endpoint;
            Tls = tls;
        }

        public string Endpoint { get; }

        /// <summary>The TLS files this client uses; null for none.</summary>
        public EngineTls Tls { get; }

        /// <summary>API calls made so far, streams included.</summary>
        public long Calls => Interlocked.Read(ref _calls);

        /// <summary>
        /// Runs one API call to completion on the calling thread, its failures translated (<see cref="Translate"/>).
        /// </summary>
        /// <param name="operation">What the engine was asked to do, as the error says it ("list its containers").</param>
        /// <param name="userToken">The caller's own token when <paramref name="token"/> also carries a timeout.</param>
        public T Call<T>(string operation, Func<DockerClient, CancellationToken, Task<T>> call, CancellationToken token, CancellationToken? userToken = null)
        {
            Interlocked.Increment(ref _calls);
            ClientLease lease = null;
            try
            {
                lease = Acquire();
                return call(lease.Client, token).ConfigureAwait(false).GetAwaiter().GetResult();
            }
            catch (Exception e) when (Translate(e, operation, userToken ?? token) is Exception translated)
            {
                throw translated;
            }
            finally
            {
                if (lease != null) Release(lease);
            }
        }

        /// <summary>As <see cref="Call{T}"/>, without holding a thread while the engine answers (the engine view's background work).</summary>
        public async Task<T> CallAsync<T>(string operation, Func<DockerClient, CancellationToken, Task<T>> call, CancellationToken token, CancellationToken? userToken = null)
        {
            Interlocked.Increment(ref _calls);
            ClientLease lease = null;
            try
            {
                lease = Acquire();
                return await call(lease.Client, token).ConfigureAwait(false);
            }
            catch (Exception e) when (Translate(e, operation, userToken ?? token) is Exception translated)
            {
                throw translated;
            }
            finally
            {
                if (lease != null) Release(lease);
            }
        }

        /// <summary>
        /// Follows the engine's events with <paramref name="parameters"/> until the stream ends, fails, is cancelled, or
        /// <see cref="Reconnect"/> is called; each event goes to <paramref name="onEvent"/> on the stream's thread. On a
        /// client of its own: a stream lives as long as the session, and a Reconnect must be able to end it. Its failures
        /// are the client's own: the engine view that follows it takes any end alike.
        /// </summary>
        public async Task Stream(ContainerEventsParameters parameters, IProgress<Message> onEvent, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            CancellationTokenSource linked;
            lock (_gate)
            {
                if (_disposed) throw Disposed();
                _streams ??= new CancellationTokenSource();
                linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _streams.Token);
            }
            using var _ = linked;
            using var client = NewClient(Timeout.InfiniteTimeSpan);
            await client.System.MonitorEventsAsync(parameters, onEvent, linked.Token).ConfigureAwait(false);
        }

        /// <summary>
        /// The next call gets a fresh client (after the engine stopped answering), and the streams under way end (their
        /// followers see the end and connect again). Calls under way on the old client finish on it; it is disposed when
        /// the last of them ends. Nothing another runspace is doing is cut short.
        /// </summary>
        public void Reconnect()
        {
            lock (_gate)
            {
                Retire();
                EndStreams();
            }
        }

        public void Dispose()
        {
            lock (_gate)
            {
                _disposed = true;
                Retire();
                EndStreams();
            }
        }

        /// <summary>
        /// What a call's failure becomes for the caller: refusals an <see cref="EngineRefusedException"/> with the engine's
        /// status and words, anything else short of the caller's own cancellation EngineUnreachable; null to let it pass
        /// as it is (the caller's cancellation, or already a <see cref="DyadPortsException"/>).
        /// </summary>
        private Exception Translate(Exception e, string operation, CancellationToken caller)
        {
            if (e is DockerApiException tls && Tls == null && (tls.ResponseBody ?? "").Contains("HTTP request to an HTTPS server", StringComparison.OrdinalIgnoreCase))
            {
                return new DyadPortsException(ErrorIds.EngineUnreachable, FailureCategory.ConnectionError, Endpoint,
                    $"The container engine at '{Endpoint}' serves TLS, and no TLS files were given. Set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH " +
                    "to a folder with ca.pem, cert.pem and key.pem, or use a docker context that has them (DOCKER_CONTEXT).", e);
            }
            if (e is DockerApiException refused) return new EngineRefusedException(Endpoint, operation, refused.StatusCode, EngineWords(refused), e);
            if (e is OperationCanceledException && caller.IsCancellationRequested) return null;
            if (e is DyadPortsException) return null;
            var tlsFiles = Tls == null ? "" : $" TLS files used: {Tls}; the server is verified against that ca.pem only.";
            if (e is OperationCanceledException || e is TimeoutException)
            {
                // Not the caller's cancellation (above): a bound ran out with the connection made and no answer.
                return new DyadPortsException(ErrorIds.EngineUnreachable, FailureCategory.OperationTimeout, Endpoint,
                    $"The container engine at '{Endpoint}' did not answer in time (to {operation}).{tlsFiles} It may be hung or overloaded, or something in between " +
                    "holds the connection without answering. Check it, point DOCKER_HOST / CONTAINER_HOST or -EngineEndpoint at one that answers, " +
                    "or use -Engine Process to check host sockets only.", e);
            }
            return new DyadPortsException(ErrorIds.EngineUnreachable, FailureCategory.ConnectionError, Endpoint,
                $"The container engine at '{Endpoint}' cannot be reached: {Innermost(e).Message}.{tlsFiles} Start it (for example 'systemctl start podman.socket' or 'dockerd'), " +
                "point DOCKER_HOST / CONTAINER_HOST or -EngineEndpoint at a running one, or use -Engine Process to check host sockets only.", e);
        }

        /// <summary>The engine's own message from its JSON error body, else the client's text.</summary>
        private static string EngineWords(DockerApiException e)
        {
            try
            {
                if (!string.IsNullOrEmpty(e.ResponseBody) && CliJson.String(CliJson.Parse(e.ResponseBody, objectOnly: true), "message") is string message) return message;
            }
            catch (Exception x) when (Diagnostics.JsonShape.IsMismatch(x))
            {
                // a message of another shape: fall through to the raw body
            }
            return string.IsNullOrEmpty(e.ResponseBody) ? e.Message : e.ResponseBody.Trim();
        }

        private static Exception Innermost(Exception e)
        {
            while (e.InnerException != null) e = e.InnerException;
            return e;
        }

        private ObjectDisposedException Disposed() => new ObjectDisposedException(nameof(ContainerEngine), $"The client for '{Endpoint}' was disposed.");

        private DockerClient NewClient(TimeSpan timeout)
        {
            var credentials = Tls == null ? null : EngineTlsCredentials.Create(Endpoint, Tls);
            return new DockerClientConfiguration(new Uri(Endpoint), credentials, timeout).CreateClient();
        }

        /// <summary>The current client, made on first use, with one more call under way on it.</summary>
        private ClientLease Acquire()
        {
            lock (_gate)
            {
                if (_disposed) throw Disposed();
                _current ??= new ClientLease(NewClient(TimeSpan.FromMinutes(5)));
                _current.Users++;
                return _current;
            }
        }

        private void Release(ClientLease lease)
        {
            lock (_gate)
            {
                lease.Users--;
                if (lease.Retired && lease.Users == 0) lease.Client.Dispose();
            }
        }

        private void Retire()
        {
            if (_current == null) return;
            _current.Retired = true;
            if (_current.Users == 0) _current.Client.Dispose();
            _current = null;
        }

        private void EndStreams()
        {
            if (_streams == null) return;
            _streams.Cancel();
            _streams.Dispose();
            _streams = null;
        }

        /// <summary>One Docker.DotNet client and the calls under way on it (guarded by the connection's lock).</summary>
        private sealed class ClientLease
        {
            public ClientLease(DockerClient client) => Client = client;
            public DockerClient Client { get; }
            public int Users { get; set; }
            public bool Retired { get; set; }
        }
    }
}
