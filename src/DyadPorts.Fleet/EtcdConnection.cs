using System;
using System.IO;
using System.Net.Http;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using dotnet_etcd;
using DyadPorts.Core.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client.Configuration;

namespace DyadPorts.Fleet
{
    /// <summary>
    /// One connection to an etcd cluster (every endpoint of the location, balanced by gRPC, so a dead member or a
    /// leader change is answered by another), and the only place gRPC errors are met: each call runs within a deadline
    /// and leaves as a <see cref="DyadPortsException"/> (<see cref="EtcdErrors"/>), never as an RpcException.
    /// </summary>
    public sealed class EtcdConnection : IDisposable
    {
        private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(50);
        private static readonly TimeSpan LastBackoff = TimeSpan.FromMilliseconds(800);
        private readonly EtcdClient _client;
        private readonly TlsFailures _tls = new TlsFailures();
        private readonly string _password;
        private readonly object _uses = new object();
        private int _users;
        private bool _superseded;
        private int _ended;

        public EtcdConnection(EtcdLocation location, EtcdOptions options)
        {
            Location = location ?? throw new ArgumentNullException(nameof(location));
            Options = options ?? throw new ArgumentNullException(nameof(options));
            Errors = new EtcdErrors(location, _tls);
            var handler = new SocketsHttpHandler
            {
                ConnectTimeout = TimeSpan.FromSeconds(Math.Min(3, options.Timeout.TotalSeconds)),
                KeepAlivePingDelay = TimeSpan.FromSeconds(10),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
                KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
                EnableMultipleHttp2Connections = true,
            };
            if (location.Tls) handler.SslOptions = TlsOptions(options, _tls);
            _client = new EtcdClient(location.ConnectionString, configureChannelOptions: channel =>
            {
                channel.HttpHandler = handler;
                channel.DisposeHttpClient = true;
                channel.Credentials = location.Tls ? new SslCredentials() : ChannelCredentials.Insecure;
                channel.ThrowOperationCanceledOnCancellation = true;
                // gRPC retries a call that failed to reach a member (Unavailable) on another one, quickly: a leader
                // change or a dead member costs milliseconds, and the deadline bounds it all.
                channel.ServiceConfig = new ServiceConfig
                {
                    MethodConfigs =
                    {
                        new MethodConfig
                        {
                            Names = { MethodName.Default },
                            RetryPolicy = new RetryPolicy
                            {
                                MaxAttempts = 4,
                                InitialBackoff = TimeSpan.FromMilliseconds(50),
                                MaxBackoff = TimeSpan.FromMilliseconds(500),
                                BackoffMultiplier = 2,
                                RetryableStatusCodes = { StatusCode.Unavailable },
                            },
                        },
                    },
                    LoadBalancingConfigs = { new RoundRobinConfig() },
                };
            });
            if (options.User != null)
            {
                _password = ReadPassword(options);
                _client.SetCredentials(options.User, _password);
            }
        }

        public EtcdLocation Location { get; }
        public EtcdOptions Options { get; }
        internal EtcdErrors Errors { get; }
        internal EtcdClient Client => _client;

        /// <summary>A deadline for one ledger call, from now.</summary>
        public DateTime NewDeadline() => DateTime.UtcNow + Options.Timeout;

        /// <summary>
        /// A call that may be repeated safely (a read, or a write whose compare makes a repeat harmless): retried
        /// while the cluster is unavailable (no leader, no quorum, a member down) until the deadline.
        /// </summary>
        public T Retrying<T>(Func<EtcdClient, DateTime, CancellationToken, T> call, DateTime deadline, CancellationToken cancellationToken)
        {
            var backoff = FirstBackoff;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    return Call(call, deadline, cancellationToken);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested && Errors.IsTransient(e) && DateTime.UtcNow + backoff < deadline)
                {
                    cancellationToken.WaitHandle.WaitOne(backoff);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, LastBackoff.Ticks));
                }
                catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested) && EtcdErrors.Handles(e))
                {
                    throw Errors.Map(e, Options.Timeout);
                }
            }
        }

        /// <summary>A call made once: its failure is mapped, and the caller decides what an ambiguous outcome means.</summary>
        public T Once<T>(Func<EtcdClient, DateTime, CancellationToken, T> call, DateTime deadline, CancellationToken cancellationToken)
        {
            try
            {
                return Call(call, deadline, cancellationToken);
            }
            catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested) && EtcdErrors.Handles(e))
            {
                throw Errors.Map(e, Options.Timeout);
            }
        }

        /// <summary>
        /// The call, made again once with a renewed auth token when the member no longer knows the one the client holds
        /// (it expired after --auth-token-ttl unused, or the member restarted): the client caches its token and does not
        /// renew it on that refusal by itself. The refused call was not applied, so making it again is safe.
        /// </summary>
        private T Call<T>(Func<EtcdClient, DateTime, CancellationToken, T> call, DateTime deadline, CancellationToken cancellationToken)
        {
            try
            {
                return call(_client, deadline, cancellationToken);
            }
            catch (Exception e) when (_password != null && EtcdErrors.IsExpiredToken(e))
            {
                _client.SetCredentials(Options.User, _password); // drops the cached token: the next call authenticates again
                return call(_client, deadline, cancellationToken);
            }
        }

        private static string ReadPassword(EtcdOptions options)
        {
            try
            {
                return File.ReadAllText(options.PasswordFile).TrimEnd('\r', '\n');
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new DyadPortsException(ErrorIds.StateStoreRefused, FailureCategory.SecurityError, options.PasswordFile,
                    $"The etcd password file '{options.PasswordFile}' ({EtcdOptions.PasswordFileVariable}) cannot be read: {e.Message}", e);
            }
        }

        private static SslClientAuthenticationOptions TlsOptions(EtcdOptions options, TlsFailures failures)
        {
            var ssl = new SslClientAuthenticationOptions();
            if (options.CaCertFile != null)
            {
                var roots = new X509Certificate2Collection();
                try
                {
                    roots.ImportFromPemFile(options.CaCertFile);
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is CryptographicException)
                {
                    throw new DyadPortsException(ErrorIds.StateStoreRefused, FailureCategory.SecurityError, options.CaCertFile,
                        $"The etcd CA certificate '{options.CaCertFile}' ({EtcdOptions.CaCertVariable}) cannot be read: {e.Message}", e);
                }
                ssl.RemoteCertificateValidationCallback = (sender, certificate, chain, errors) =>
                {
                    if (certificate == null) return failures.Fail("the server sent no certificate");
                    using var custom = new X509Chain();
                    custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    custom.ChainPolicy.CustomTrustStore.AddRange(roots);
                    custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    if (!custom.Build(new X509Certificate2(certificate)))
                    {
                        return failures.Fail($"the server's certificate is not signed by the CA in {EtcdOptions.CaCertVariable} ('{options.CaCertFile}'): unknown CA");
                    }
                    if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
                    {
                        return failures.Fail("the server's certificate does not name the address it was reached at (its subject alternative names)");
                    }
                    return true;
                };
            }
            else
            {
                ssl.RemoteCertificateValidationCallback = (sender, certificate, chain, errors) =>
                    errors == SslPolicyErrors.None || failures.Fail($"the server's certificate is not trusted by this machine ({errors}); give its CA in {EtcdOptions.CaCertVariable}");
            }
            if (options.CertFile != null)
            {
                try
                {
                    using var pem = X509Certificate2.CreateFromPemFile(options.CertFile, options.KeyFile);
                    // A PEM key is ephemeral; the TLS stack on some platforms wants it in a store-backed form.
                    var certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
                    ssl.ClientCertificates = new X509CertificateCollection { certificate };
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is CryptographicException)
                {
                    throw new DyadPortsException(ErrorIds.StateStoreRefused, FailureCategory.SecurityError, options.CertFile,
                        $"The etcd client certificate '{options.CertFile}' or its key '{options.KeyFile}' ({EtcdOptions.CertVariable}, {EtcdOptions.KeyVariable}) cannot be read: {e.Message}", e);
                }
            }
            return ssl;
        }

        /// <summary>
        /// Counts one user (a command's ledger) of a connection the session shares, until the returned use is disposed;
        /// null when a newer connection has replaced this one (<see cref="Supersede"/>), and the caller takes that one.
        /// </summary>
        internal IDisposable Use()
        {
            lock (_uses)
            {
                if (_superseded) return null;
                _users++;
            }
            return new ConnectionUse(this);
        }

        /// <summary>
        /// A newer connection replaces this one (a renewed certificate or password file): this one ends once its last
        /// user is done, at once when it has none. A command under way on it finishes on it.
        /// </summary>
        internal void Supersede()
        {
            lock (_uses)
            {
                if (_superseded) return;
                _superseded = true;
                if (_users > 0) return;
            }
            Dispose();
        }

        /// <summary>Whether the connection has ended (disposed, or superseded and left by its last user).</summary>
        internal bool IsEnded => Volatile.Read(ref _ended) == 1;

        private void Release()
        {
            lock (_uses)
            {
                _users--;
                if (!_superseded || _users > 0) return;
            }
            Dispose();
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0) _client.Dispose();
        }

        private sealed class ConnectionUse : IDisposable
        {
            private EtcdConnection _connection;

            public ConnectionUse(EtcdConnection connection) => _connection = connection;

            public void Dispose() => Interlocked.Exchange(ref _connection, null)?.Release();
        }
    }

    /// <summary>Why this connection's last TLS handshake failed, as its certificate check saw it (the exception only says "rejected").</summary>
    internal sealed class TlsFailures
    {
        private string _last;
        public string Last => Volatile.Read(ref _last);

        public bool Fail(string reason)
        {
            Volatile.Write(ref _last, reason);
            return false;
        }
    }
}
