using System;
using DyadPorts.Core.Engines;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Allocation
{
    /// <summary>
    /// AUTO_KILL_PORT, decided without side effects: which containers may be removed to free a port. Only
    /// orphans: DyadPorts containers of this state, created, exited or dead, whose app holds no allocation on
    /// that port. That is the seed's zombie case. A stopped preview whose app kept its allocation
    /// (Stop-DyadPreview -KeepAllocation) is a reservation like any other, unless it is a stale claimant of the app's
    /// claim (<see cref="Ownership.IsStaleClaimant"/>: an earlier start's, whose claim was lost); a running, paused or restarting
    /// container, an unlabelled one and another state's one are never candidates.
    /// </summary>
    public static class AutoKillPolicy
    {
        /// <summary>Null when <paramref name="container"/> is an orphan that may go, else why it must stay.</summary>
        public static string WhyKept(ContainerSummary container, int port, StateDocument state)
        {
            if (!container.IsManaged) return $"it has no {ContainerSummary.ManagedLabel} label, and DyadPorts never removes containers it did not create";
            if (!Ownership.BelongsTo(container, state)) return "it belongs to another DyadPorts state (another user, or another DYAD_PORTS_STATE)";
            if (!container.IsDormant) return $"it is {container.State}, not created, exited or dead";
            if (container.AppId != null && state.Allocations.TryGetValue(container.AppId, out var record) && record.Port == port && !Ownership.IsStaleClaimant(container, record))
            {
                return $"app {container.AppId} still holds port {port} (a stopped preview kept with -KeepAllocation)";
            }
            return null;
        }

        public static bool IsOrphan(ContainerSummary container, int port, StateDocument state) => WhyKept(container, port, state) == null;
    }
}
