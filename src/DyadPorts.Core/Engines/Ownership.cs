using System;
using System.Linq;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Engines
{
    /// <summary>
    /// Which containers belong to a state. Several state files can drive one engine (other users, other
    /// DYAD_PORTS_STATE values, a test suite), so a DyadPorts label alone is not enough: the container must carry
    /// this state's id. A labelled container from before the state label belongs only to the state that recorded
    /// its container id. Everything else is foreign: it holds its ports like any other container, and nothing
    /// here ever removes it. A state that adopted another's id (Copy-DyadPortState) owns that state's containers too.
    /// </summary>
    public static class Ownership
    {
        public static bool BelongsTo(ContainerSummary container, StateDocument state)
        {
            if (!container.IsManaged || state == null) return false;
            var label = container.StateId;
            if (label != null) return state.Owns(label); // its own id, or one it adopted (Copy-DyadPortState)
            return state.Allocations.Values.Any(r => string.Equals(r.ContainerId, container.Id, StringComparison.Ordinal));
        }

        /// <summary>
        /// The app's own preview container in this state: labelled for the app, of this state, and not a stale claimant of
        /// the app's current claim (<see cref="IsStaleClaimant"/>).
        /// </summary>
        public static bool IsAppsOwn(ContainerSummary container, string appId, StateDocument state) =>
            IsAppsOfAnyClaim(container, appId, state) && !IsStaleClaimant(container, state.Allocations.TryGetValue(appId, out var record) ? record : null);

        /// <summary>Labelled for the app and of this state, whatever its claim: the app's own or a stale claimant (it bears the app's name).</summary>
        public static bool IsAppsOfAnyClaim(ContainerSummary container, string appId, StateDocument state) =>
            appId != null && string.Equals(container.AppId, appId, StringComparison.Ordinal) && BelongsTo(container, state);

        /// <summary>
        /// A stale claimant of <paramref name="record"/>'s claim: a container of the app that publishes the record's port
        /// under an older claim (its dyadports.claim label below the record's <see cref="AllocationRecord.ClaimRevision"/>)
        /// and that the record does not name. It is an earlier start's, whose claim was lost (its lease expired, say, and
        /// another operator claimed the port for the app since): it is not the current claim's preview. Nothing is a stale
        /// claimant when either side has no claim (records and containers of 0.3.0 and older), when the record names the
        /// container (it was recorded, or adopted, under this claim), or when the container publishes another port (the
        /// app moved on; it is the app's own leftover there).
        /// </summary>
        public static bool IsStaleClaimant(ContainerSummary container, AllocationRecord record)
        {
            if (container == null || record?.ClaimRevision == null) return false;
            var label = container.ClaimRevision;
            if (label == null || label.Value >= record.ClaimRevision.Value) return false;
            if (string.Equals(container.Id, record.ContainerId, StringComparison.Ordinal)) return false;
            return container.TcpHostPorts.Contains(record.Port);
        }
    }
}
