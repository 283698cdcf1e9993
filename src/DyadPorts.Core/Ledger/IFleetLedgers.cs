using DyadPorts.Core.Session;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Ledger
{
    /// <summary>
    /// Opens the ledger of a fleet state (an etcd:// or etcds:// location). The core knows no fleet store: the module's
    /// composition root gives the session an implementation (DyadPorts.Fleet's), so the fleet's assemblies load only
    /// when a fleet state is used. An implementation keeps its connections for the life of the session; the ledger it
    /// opens is cheap and holds nothing that needs disposing.
    /// </summary>
    public interface IFleetLedgers
    {
        /// <param name="location">An etcd location (<see cref="StateLocation.IsEtcd"/>).</param>
        /// <param name="settings">The command's settings: the environment names the TLS files, the user and the bound.</param>
        /// <param name="recovery">Rebuilds a prefix that holds nothing yet from the labelled containers; null for none.</param>
        IAllocationLedger Open(StateLocation location, DyadSettings settings, IStateRecovery recovery);
    }
}
