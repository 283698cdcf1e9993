using System;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Ledger;

namespace DyadPorts.Core.Previews
{
    /// <summary>
    /// An app's start lock as the launcher holds it: <see cref="Dispose"/> releases it, and <see cref="WarnIfLost"/>, called
    /// once the work under it has completed and the lock is released, warns when it was lost while held
    /// (<see cref="IAppLock.Lost"/>: an etcd lock whose lease ended). Never from Dispose: a warning may prompt, or stop the
    /// pipeline (-WarningAction), and must neither happen under the lock nor replace the error a failed start unwinds with.
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

        public void Dispose() => _held.Dispose();

        /// <summary>Releases the lock if it is still held, then warns if it was lost while held.</summary>
        public void WarnIfLost()
        {
            _held.Dispose();
            if (_held.Lost is string lost)
            {
                _log.Warning($"App {_appId}: its start lock was lost while this start or stop ran: {lost}. Another start or stop of the app may have run at the same time: " +
                             $"check it with Get-DyadPortAllocation {_appId} and Get-DyadPortHistory -AppId {_appId}.");
            }
        }
    }
}
