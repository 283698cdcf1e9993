using DyadPorts.Core.Ledger;
using DyadPorts.Core.Session;

namespace DyadPorts.Infrastructure
{
    /// <summary>The session's way to open a ledger for a location a command is given (Copy-DyadPortState's -Source and -Destination).</summary>
    internal static class SessionLedgers
    {
        /// <summary>A ledger without recovery for <paramref name="location"/> (a full path or an etcd URL); the caller disposes it when it is IDisposable.</summary>
        public static IAllocationLedger OpenLedger(this DyadSession session, string location, bool mustExist) =>
            StateLedgers.Open(location, mustExist, OpenEtcd(session));

        /// <summary>
        /// ETCD PLUGS IN HERE (the only place): once the module references DyadPorts.Fleet, return
        /// <c>location =&gt; DyadPorts.Fleet.EtcdLedger.Open(location, session.Environment, recovery: null)</c>
        /// (or the session's own etcd factory). Until then etcd locations are refused with StateLocationInvalid.
        /// </summary>
        private static System.Func<string, IAllocationLedger> OpenEtcd(DyadSession session)
        {
            _ = session;
            return null;
        }
    }
}
