using System;

namespace DyadPorts.Core.Ledger
{
    /// <summary>An app's start lock while it is held (<see cref="IAllocationLedger.LockApp"/>); disposing it releases it.</summary>
    public interface IAppLock : IDisposable
    {
        /// <summary>
        /// Null while the lock is still this holder's as far as it can tell; otherwise why it may not be. A file lock
        /// is held as long as its process lives, so it is never lost. An etcd lock lives under a lease: when the lease
        /// ends while the lock is held (its keep-alive could not reach the cluster for longer than the lease's TTL, or
        /// someone revoked it), the lock key goes with it, and another operator may have taken the app meanwhile.
        /// </summary>
        string Lost { get; }
    }
}
