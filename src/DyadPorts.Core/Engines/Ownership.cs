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

        /// <summary>The app's own preview container in this state: labelled for the app, and of this state.</summary>
        public static bool IsAppsOwn(ContainerSummary container, string appId, StateDocument state) =>
            appId != null && string.Equals(container.AppId, appId, StringComparison.Ordinal) && BelongsTo(container, state);
    }
}
