using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net.NetworkInformation;
using System.Threading;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Previews
{
    /// <summary>
    /// Stops previews whose traffic has not changed for a while, like the dyad backend does after 10 minutes,
    /// which frees their ports. Meant to run every minute (cron, a systemd timer, Task Scheduler). Each run takes
    /// one sample per preview and keeps, per app, the first sample of its current run of unchanged traffic: a
    /// preview is idle when its traffic equals a sample at least the idle time old. Containers are judged by
    /// transmitted bytes (a preview that serves requests answers them; a neighbour's ARP or multicast raises
    /// every container's received bytes). Processes are judged by the TCP connections to their port: every
    /// request leaves a new connection, established or in TIME_WAIT for a minute, so an unchanged set means no
    /// new request; an established connection means a client is attached, which counts as busy. Only the app's own previews of this state are ever looked at, and each one
    /// under its app's start lock, so a preview being started is never stopped.
    /// </summary>
    public sealed class IdleReaper
    {
        private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(2);
        private readonly PortAllocator _allocator;
        private readonly PreviewLauncher _launcher;

        public IdleReaper(PortAllocator allocator)
        {
            _allocator = allocator;
            _launcher = new PreviewLauncher(allocator);
        }

        /// <param name="shouldStop">Asked before each stop (ShouldProcess); false skips it.</param>
        /// <param name="recordSamples">False under -WhatIf: then nothing at all is written.</param>
        public IReadOnlyList<Preview> Reap(TimeSpan idleFor, Func<string, bool> appMatches, Func<string, string, bool> shouldStop, bool remove, bool keepAllocation,
            bool recordSamples, IOperationLog log, CancellationToken ct)
        {
            var snapshot = _allocator.TakeSnapshot(log, ct);
            // Under -WhatIf nothing is written, not even a migration or a recovery: the file is only peeked at.
            var state = recordSamples ? _allocator.ReadState(log, ct) : _allocator.Ledger.Peek();
            var stopped = new List<Preview>();
            if (state == null) return stopped;
            foreach (var record in state.Allocations.Values.Where(r => appMatches(r.AppId)).ToList())
            {
                var preview = PreviewOf(record, snapshot, state);
                if (preview == null) continue;
                IDisposable appLock;
                try
                {
                    appLock = _launcher.LockApp(record.AppId, LockWait, NullOperationLog.Instance, ct);
                }
                catch (DyadPortsException e) when (e.ErrorId == ErrorIds.PreviewStartInProgress)
                {
                    log.Verbose($"App {record.AppId}: its preview is being started or stopped right now; skipped.");
                    continue;
                }
                using (appLock)
                {
                    // Under the lock, the app must still have the preview judged: a restart in between is a new preview.
                    var now = recordSamples ? _allocator.ReadState(log, ct) : _allocator.Ledger.Peek();
                    if (now == null || !now.Allocations.TryGetValue(record.AppId, out var current) ||
                        current.ContainerId != record.ContainerId || current.ProcessId != record.ProcessId)
                    {
                        log.Verbose($"App {record.AppId}: its preview changed while the reaper looked; skipped.");
                        continue;
                    }
                    var sample = Sample(record, preview, log, ct);
                    if (sample == null) continue;
                    state.Activity.TryGetValue(record.AppId, out var previous);
                    var unchanged = sample.SameTraffic(previous);
                    // A process preview with an established connection has a client attached (a browser tab's HMR socket): busy.
                    var quiet = unchanged && (record.ContainerId != null || sample.Value.IndexOf("/" + TcpState.Established, StringComparison.Ordinal) < 0);
                    var idleSpan = unchanged ? sample.At - previous.At : TimeSpan.Zero;
                    var kept = unchanged ? previous : sample;
                    if (quiet && idleSpan >= idleFor)
                    {
                        var reason = $"idle for {Format(idleSpan)} (no traffic since {previous.At:u})";
                        log.Verbose($"App {record.AppId}: {reason}.");
                        var action = (remove ? "Remove its idle preview" : "Stop its idle preview") + (keepAllocation ? "" : " and release its port") + $" ({reason})";
                        if (shouldStop(record.AppId, action))
                        {
                            var result = _launcher.StopLocked(record.AppId, remove, keepAllocation, reason, log, ct);
                            if (result != null) stopped.Add(result);
                            kept = null;
                        }
                    }
                    else
                    {
                        log.Verbose(unchanged
                            ? $"App {record.AppId}: {(quiet ? "no traffic" : "open connections, unchanged")} for {Format(idleSpan)}, less than {Format(idleFor)}{(quiet ? "" : ", so it counts as busy")}."
                            : $"App {record.AppId}: traffic since the last sample ({previous?.Value ?? "none"} -> {sample.Value}); it is busy.");
                    }
                    if (recordSamples) Remember(record.AppId, kept, log);
                }
            }
            return stopped;
        }

        /// <summary>"container &lt;id&gt;" or "process &lt;pid&gt;@&lt;start&gt;" when the app's own preview of this state runs; else null.</summary>
        private static string PreviewOf(AllocationRecord record, EngineSnapshot snapshot, StateDocument state)
        {
            if (record.ContainerId != null)
            {
                var container = snapshot.Containers.FirstOrDefault(c => c.Id == record.ContainerId);
                return container != null && container.IsRunning && Ownership.IsAppsOwn(container, record.AppId, state) ? "container " + container.Id : null;
            }
            if (record.ProcessId.HasValue && PreviewProcesses.IsAlive(record))
            {
                return $"process {record.ProcessId}@{record.ProcessStartedAt.Value.ToUnixTimeMilliseconds()}";
            }
            return null;
        }

        private ActivitySample Sample(AllocationRecord record, string preview, IOperationLog log, CancellationToken ct)
        {
            var now = DateTimeOffset.UtcNow;
            if (record.ContainerId != null)
            {
                try
                {
                    var bytes = _allocator.Engine.Engine.NetworkBytes(record.ContainerId, ct);
                    if (bytes == null)
                    {
                        log.Verbose($"App {record.AppId}: the engine reports no network counters for its container; it is never judged idle on a guess.");
                        return null;
                    }
                    return new ActivitySample { At = now, Preview = preview, Value = bytes.Value.Transmitted.ToString(CultureInfo.InvariantCulture) };
                }
                catch (EngineRefusedException e)
                {
                    log.Verbose($"App {record.AppId}: no stats for its container ({e.Message}); skipped.");
                    return null;
                }
            }
            var connections = ConnectionsTo(record.Port);
            if (connections == null)
            {
                log.Verbose($"App {record.AppId}: the host's connection table cannot be read; it is never judged idle on a guess.");
                return null;
            }
            return new ActivitySample { At = now, Preview = preview, Value = connections };
        }

        /// <summary>The TCP connections to the port other than its listener (established, TIME_WAIT, ...), as one sorted text; null when unknown.</summary>
        internal static string ConnectionsTo(int port)
        {
            try
            {
                return string.Join(" ", IPGlobalProperties.GetIPGlobalProperties().GetActiveTcpConnections()
                    .Where(c => c.LocalEndPoint.Port == port && c.State != TcpState.Listen)
                    .Select(c => $"{c.RemoteEndPoint}/{c.State}").OrderBy(x => x, StringComparer.Ordinal));
            }
            catch (NetworkInformationException)
            {
                return null;
            }
        }

        private void Remember(string appId, ActivitySample sample, IOperationLog log)
        {
            _allocator.Ledger.Transact(state =>
            {
                if (sample == null) state.Activity.Remove(appId);
                else if (state.Allocations.ContainsKey(appId)) state.Activity[appId] = sample;
                return 0;
            }, log, CancellationToken.None);
        }

        private static string Format(TimeSpan span) => span.ToString(span.TotalHours >= 1 ? @"h\:mm\:ss" : @"m\:ss", CultureInfo.InvariantCulture);
    }
}
