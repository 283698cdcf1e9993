using System;
using System.Threading;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Ledger;
using Etcdserverpb;
using Google.Protobuf;

namespace DyadPorts.Fleet
{
    /// <summary>
    /// One start or stop per app at a time, fleet-wide: the key <c>P/locks/app/&lt;appId&gt;</c>, created only if absent,
    /// under a lease that a background keep-alive renews while the lock is held. Released by deleting the key (only
    /// if it is still this holder's) and revoking the lease. A holder killed with kill -9 frees the app when its lease
    /// expires: after the TTL (<see cref="EtcdOptions.LeaseTtl"/>, 10 s) at the earliest, and up to about TTL + an
    /// election timeout when the leader changes meanwhile (etcd 3.4 restarts every lease at its full TTL on a new
    /// leader unless lease checkpointing is on): so up to about 2 × TTL. A waiter polls every 100 ms and honours its
    /// cancellation at once.
    /// </summary>
    internal sealed class EtcdAppLock : IAppLock
    {
        private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);
        private static readonly TimeSpan ReleaseTimeout = TimeSpan.FromSeconds(2);
        private readonly EtcdConnection _cluster;
        private readonly string _key;
        private readonly string _nonce;
        private readonly EtcdLease _lease;
        private int _released;
        private volatile string _releasedLost;

        private EtcdAppLock(EtcdConnection cluster, string key, string nonce, EtcdLease lease)
        {
            _cluster = cluster;
            _key = key;
            _nonce = nonce;
            _lease = lease;
        }

        /// <summary>
        /// Why the key may no longer be this holder's: its lease ended while held (<see cref="EtcdLease.Lost"/>, heard at the
        /// keep-alive's next renewal), or, once released, the key was no longer this holder's when the release compared it.
        /// </summary>
        public string Lost => _lease.Lost ?? _releasedLost;

        public static IAppLock Acquire(EtcdConnection cluster, string key, string target, TimeSpan timeout, Func<string, TimeSpan, DyadPortsException> timedOut, CancellationToken cancellationToken)
        {
            var nonce = Guid.NewGuid().ToString("N");
            var until = DateTime.UtcNow + timeout;
            var lease = EtcdLease.Grant(cluster, cancellationToken); // kept alive while this waits, too
            try
            {
                var claim = new TxnRequest();
                claim.Compare.Add(new Compare { Key = EtcdKeys.Bytes(key), Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 });
                claim.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = EtcdKeys.Bytes(key), Value = ByteString.CopyFromUtf8(nonce), Lease = lease.Id } });
                while (true)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    // A repeat of this claim is harmless: it compares the key's absence, and a key already ours is found below.
                    var response = cluster.Retrying((client, d, token) => client.Transaction(claim, null, d, token), cluster.NewDeadline(), cancellationToken);
                    if (response.Succeeded || Holder(cluster, key, cancellationToken) == nonce) return new EtcdAppLock(cluster, key, nonce, lease);
                    var left = until - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero) throw timedOut(target, timeout);
                    cancellationToken.WaitHandle.WaitOne(left < Poll ? left : Poll);
                }
            }
            catch
            {
                lease.Dispose();
                throw;
            }
        }

        private static string Holder(EtcdConnection cluster, string key, CancellationToken cancellationToken)
        {
            var range = cluster.Retrying((client, d, token) => client.Get(new RangeRequest { Key = EtcdKeys.Bytes(key) }, null, d, token), cluster.NewDeadline(), cancellationToken);
            return range.Kvs.Count == 0 ? null : range.Kvs[0].Value.ToStringUtf8();
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0) return;
            try
            {
                var release = new TxnRequest();
                release.Compare.Add(new Compare { Key = EtcdKeys.Bytes(_key), Target = Compare.Types.CompareTarget.Value, Result = Compare.Types.CompareResult.Equal, Value = ByteString.CopyFromUtf8(_nonce) });
                release.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = EtcdKeys.Bytes(_key) } });
                var released = _cluster.Retrying((client, d, token) => client.Transaction(release, null, d, token), DateTime.UtcNow + ReleaseTimeout, CancellationToken.None);
                if (!released.Succeeded) _releasedLost = $"its key {_key} was gone or no longer this holder's when it was released (its lease ended while it was held)";
            }
            catch (DyadPortsException)
            {
                // the lease below, or its expiry, frees the key anyway
            }
            _lease.Dispose(); // revoked
        }
    }
}
