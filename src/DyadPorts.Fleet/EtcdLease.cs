using System;
using System.Threading;
using System.Threading.Tasks;
using DyadPorts.Core.Diagnostics;
using Etcdserverpb;

namespace DyadPorts.Fleet
{
    /// <summary>
    /// An etcd lease of <see cref="EtcdOptions.LeaseTtl"/>, kept alive in the background from its grant until it is
    /// disposed (then revoked: every key still under it goes) or the process dies (then it expires after its TTL, up to
    /// about TTL + an election timeout when the leader changes meanwhile). A keep-alive whose connection was closed stops.
    /// A lease that ends while it is kept (expired while no keep-alive reached the cluster, or revoked by someone else)
    /// is <see cref="Lost"/>: the keep-alive hears it at its next renewal, a third of the TTL at most after.
    /// </summary>
    internal sealed class EtcdLease : IDisposable
    {
        private static readonly TimeSpan RevokeTimeout = TimeSpan.FromSeconds(2);
        private readonly EtcdConnection _cluster;
        private readonly CancellationTokenSource _keepAlive = new CancellationTokenSource();
        private int _disposed;
        private volatile string _lost;

        private EtcdLease(EtcdConnection cluster, long id)
        {
            _cluster = cluster;
            Id = id;
            _ = Task.Run(KeepAlive);
        }

        public long Id { get; }

        /// <summary>Null while the lease lives as far as its keep-alive knows; otherwise what ended it.</summary>
        public string Lost => _lost;

        public static EtcdLease Grant(EtcdConnection cluster, CancellationToken cancellationToken)
        {
            var ttl = (long)Math.Ceiling(cluster.Options.LeaseTtl.TotalSeconds);
            var id = cluster.Retrying((client, d, token) => client.LeaseGrant(new LeaseGrantRequest { TTL = ttl }, null, d, token), cluster.NewDeadline(), cancellationToken).ID;
            return new EtcdLease(cluster, id);
        }

        private async Task KeepAlive()
        {
            var token = _keepAlive.Token;
            while (!token.IsCancellationRequested)
            {
                try
                {
                    await _cluster.Client.LeaseKeepAlive(Id, token).ConfigureAwait(false);
                    // The keep-alive ends by itself when the cluster answers that the lease is gone (TTL 0).
                    if (!token.IsCancellationRequested)
                    {
                        _lost = $"its etcd lease {Id:x} ended while it was held (it expired while no keep-alive reached the cluster, or it was revoked)";
                    }
                    return;
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    return;
                }
                catch (ObjectDisposedException)
                {
                    return; // the connection was closed: the lease expires by itself
                }
#pragma warning disable CA1031 // a lost stream (member down, leader change) is reopened until the lease is disposed
                catch (Exception)
#pragma warning restore CA1031
                {
                    try { await Task.Delay(TimeSpan.FromMilliseconds(300), token).ConfigureAwait(false); }
                    catch (OperationCanceledException) { return; }
                }
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            _keepAlive.Cancel();
            try
            {
                _cluster.Once((client, d, token) => client.LeaseRevoke(new LeaseRevokeRequest { ID = Id }, null, d, token), DateTime.UtcNow + RevokeTimeout, CancellationToken.None);
            }
            catch (Exception e) when (e is DyadPortsException || e is ObjectDisposedException)
            {
                // it expires by itself within its TTL
            }
            _keepAlive.Dispose();
        }
    }
}
