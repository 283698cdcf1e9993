using System.Threading;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Ledger
{
    /// <summary>
    /// Rebuilds a missing or unreadable state from the truth: the engine's containers labelled with the state's id.
    /// Given to a ledger when it is built, and called by the ledger with nothing held. Never rebuilds from nothing:
    /// when no engine can be asked it throws <see cref="ErrorIds.StateFileCorrupt"/>, and the ledger leaves the stored
    /// state exactly as it is (a missing one then starts empty: nothing is lost).
    /// </summary>
    public interface IStateRecovery
    {
        /// <summary>A state of the containers <paramref name="identity"/> owns, carrying its id and its adopted ids.</summary>
        StateDocument Rebuild(StateIdentity identity, IOperationLog log, CancellationToken cancellationToken);
    }
}
