using System;
using System.Collections.Generic;
using System.Linq;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Availability;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Insights
{
    /// <summary>
    /// The range at a glance, from one snapshot: each port's holder as Test sees it, the allocations counted by
    /// status as Get reconciles them, and the last 24 hours of the history. Pure on what it is given.
    /// </summary>
    public static class UsageReport
    {
        public static PortUsage Build(PortRange range, Occupancy occupancy, IReadOnlyList<PortEvent> history, DateTimeOffset now)
        {
            var state = occupancy.State;
            var usage = new PortUsage { At = now, Range = range.ToString(), First = range.First, Last = range.Last, Total = range.Count };
            var map = new char[range.Count];
            for (var port = range.First; port <= range.Last; port++)
            {
                var holder = occupancy.HolderOf(port, null);
                map[port - range.First] = holder == null ? PortUsage.FreeCell
                    : holder.Source == PortHolderSource.Allocation ? PortUsage.AllocationCell
                    : holder.Source == PortHolderSource.Container ? PortUsage.ContainerCell : PortUsage.HostCell;
            }
            usage.Map = new string(map);
            usage.Free = map.Count(c => c == PortUsage.FreeCell);
            usage.HeldByAllocation = map.Count(c => c == PortUsage.AllocationCell);
            usage.HeldByContainer = map.Count(c => c == PortUsage.ContainerCell);
            usage.HeldByHost = map.Count(c => c == PortUsage.HostCell);
            foreach (var status in state.Allocations.Values.Select(r => Reconciler.Reconcile(r, occupancy).Status.ToString()))
            {
                usage.AllocationsByStatus[status] = (usage.AllocationsByStatus.TryGetValue(status, out var n) ? n : 0) + 1;
            }
            var since = now.AddHours(-24);
            var recent = history.Where(e => e.Time >= since).ToList();
            usage.MovesLast24Hours = recent.Count(e => e.Kind == PortEventKind.Moved);
            usage.RacesLostLast24Hours = recent.Count(e => e.Kind == PortEventKind.RaceLost);
            usage.TopMovers = recent.Where(e => e.Kind == PortEventKind.Moved && e.AppId != null).GroupBy(e => e.AppId)
                .Select(g => new AppMoves { AppId = g.Key, Moves = g.Count() }).OrderByDescending(m => m.Moves).ThenBy(m => m.AppId, StringComparer.Ordinal).Take(5).ToArray();
            usage.EventCounts = new SortedDictionary<string, long>(state.Counters, StringComparer.Ordinal);
            return usage;
        }
    }
}
