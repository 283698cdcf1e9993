using System;
using System.Collections.Generic;
using System.Linq;
using DyadPorts.Core.Availability;
using DyadPorts.Core.Diagnostics;

namespace DyadPorts.Core.Allocation
{
    /// <summary>What the chooser knows about the app before it looks at ports.</summary>
    public sealed class PortRequest
    {
        public string AppId { get; set; }
        public PortRange Range { get; set; } = PortRange.Default;
        /// <summary>The port the state already gives the app, if any.</summary>
        public int? CurrentPort { get; set; }
        /// <summary>Re-choose from the start of the range instead of keeping a still-free current port.</summary>
        public bool Force { get; set; }
        /// <summary>A port the app's own running container publishes: the app's, whatever the state says.</summary>
        public int? OwnLivePort { get; set; }
        /// <summary>Ports this request already lost to a race at start time.</summary>
        public ISet<int> Excluded { get; set; } = new HashSet<int>();
    }

    public enum ChoiceReason
    {
        OwnContainer,
        Reused,
        Scanned,
    }

    public sealed class PortChoice
    {
        public int Port { get; set; }
        public ChoiceReason Reason { get; set; }
        /// <summary>Why the app's previous port was given up, for a warning; null when it was not.</summary>
        public string Dropped { get; set; }
    }

    /// <summary>
    /// Where a port is chosen. Pure: it only asks <c>holderOf(port)</c>, which returns who keeps a port
    /// from the app (a container, a host socket, another app's allocation) or null when the port is free.
    /// Trace messages are built only when <c>trace</c> is given, so holders are not described for nothing.
    /// </summary>
    public static class PortChooser
    {
        public static PortChoice Choose(PortRequest request, Func<int, PortHolder> holderOf, Action<string> trace = null)
        {
            void Trace(Func<string> message) => trace?.Invoke(message());
            var app = request.AppId;

            // 1. The app's own running container is the truth: never move a live preview.
            if (request.OwnLivePort is int live && !request.Excluded.Contains(live))
            {
                Trace(() => $"App {app}: its own running container publishes {live}; keeping it.");
                return new PortChoice { Port = live, Reason = ChoiceReason.OwnContainer };
            }

            // 2. Keep the current port while the system agrees it is free.
            string dropped = null;
            if (request.CurrentPort is int current)
            {
                if (request.Force) Trace(() => $"App {app}: -Force, re-choosing instead of keeping {current}.");
                else if (request.Excluded.Contains(current)) dropped = $"port {current} was lost to another claimant when the preview started";
                else if (!request.Range.Contains(current)) dropped = $"port {current} is outside the range {request.Range}";
                else
                {
                    var holder = holderOf(current);
                    if (holder == null)
                    {
                        Trace(() => $"App {app}: port {current} is still free; reusing it.");
                        return new PortChoice { Port = current, Reason = ChoiceReason.Reused };
                    }
                    dropped = $"port {current} is held by {holder.Description}";
                }
                if (dropped != null) Trace(() => $"App {app}: {dropped}; reallocating.");
            }

            // 3. First free port of the range, in order.
            var held = new Dictionary<PortHolderSource, int>();
            var excluded = 0;
            for (var port = request.Range.First; port <= request.Range.Last; port++)
            {
                if (request.Excluded.Contains(port))
                {
                    excluded++;
                    Trace(() => $"Port {port}: skipped, lost to a race earlier in this start.");
                    continue;
                }
                var holder = holderOf(port);
                if (holder == null)
                {
                    Trace(() => $"Port {port}: free; allocating it to app {app}.");
                    return new PortChoice { Port = port, Reason = ChoiceReason.Scanned, Dropped = dropped };
                }
                held[holder.Source] = held.TryGetValue(holder.Source, out var n) ? n + 1 : 1;
                Trace(() => $"Port {port}: held by {holder.Description}.");
            }

            throw Exhausted(request.AppId, request.Range, held, excluded);
        }

        internal static DyadPortsException Exhausted(string appId, PortRange range, IReadOnlyDictionary<PortHolderSource, int> held, int excluded)
        {
            int Count(PortHolderSource s) => held.TryGetValue(s, out var n) ? n : 0;
            var total = held.Values.Sum() + excluded;
            var message =
                $"App {appId}: no free port in {range}: checked {range.Count} port(s) and all {total} are held " +
                $"({Count(PortHolderSource.Allocation)} by other apps' allocations, {Count(PortHolderSource.Container)} by containers, " +
                $"{Count(PortHolderSource.Host)} by host processes{(excluded > 0 ? $", {excluded} lost to races" : "")}). " +
                "Widen the range with -PortRange or DYAD_PORT_RANGE, or remove stale allocations: " +
                "Get-DyadPortAllocation | Where-Object Status -eq Stale | Remove-DyadPortAllocation.";
            // Tied to this app (the next app of the pipeline is still tried): the app is the target, as PowerShell's own
            // per-input errors name their input; the message names the range.
            return new DyadPortsException(ErrorIds.PortRangeExhausted, FailureCategory.ResourceUnavailable, appId, message);
        }
    }
}
