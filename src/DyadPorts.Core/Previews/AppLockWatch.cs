using System;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Ledger;

namespace DyadPorts.Core.Previews
{
    /// <summary>
    /// An app's start lock as the launcher holds it: released when disposed, and then, if it was lost while held
    /// (<see cref="IAppLock.Lost"/>: an etcd lock whose lease ended), a warning. The warning comes after the release,
    /// never while the lock is held: a cmdlet's warning may prompt.
    /// </summary>
    internal sealed class AppLockWatch : IDisposable
    {
        private readonly IAppLock _held;
        private readonly string _appId;
        private readonly IOperationLog _log;

        public AppLockWatch(IAppLock held, string appId, IOperationLog log)
        {
            _held = held ?? throw new ArgumentNullException(nameof(held));
            _appId = appId;
            _log = log ?? NullOperationLog.Instance;
        }

        public void Dispose()
        {
            var lost = _held.Lost;
            _held.Dispose();
            if (lost != null)
            {
                _log.Warning($"App {_appId}: its start lock was lost while this start or stop ran: {lost}. Another start or stop of the app may have run at the same time: " +
                             $"check it with Get-DyadPortAllocation {_appId} and Get-DyadPortHistory -AppId {_appId}.");
            }
        }
    }
}
