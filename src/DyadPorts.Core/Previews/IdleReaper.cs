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
    /// Stops previews that served nothing for a while, like the dyad backend does after 10 minutes, which frees their
    /// ports. Meant to run every minute (cron, a systemd timer, Task Scheduler). Each run takes one sample per preview
    /// (<see cref="ActivitySampler"/>) and keeps, per app, the first sample of its current quiet run; <see cref="IdleJudge"/>
    /// decides. Only the app's own previews of this state are ever looked at, each under its app's start lock, so a
    /// preview being started is never stopped. Under -WhatIf (nothing recorded) no lock is taken and nothing is
    /// written: the state is only peeked at, and what would be stopped is reported.
    /// </summary>
    public sealed class IdleReaper
    {
        private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(2);
        private readonly PortAllocator _allocator;
        private readonly PreviewLauncher _launcher;
        private readonly ActivitySampler _sampler;

        public IdleReaper(PortAllocator allocator)
            : this(allocator, new ActivitySampler(allocator.Engine.Engine, new ContainerConnectionReader()))
        {
        }

        public IdleReaper(PortAllocator allocator, ActivitySampler sampler)
        {
            _allocator = allocator;
            _launcher = new PreviewLauncher(allocator);
            _sampler = sampler;
        }

        /// <param name="shouldStop">Asked before each stop (ShouldProcess); false skips it.</param>
        /// <param name="appFailed">
        /// Gets a failure tied to one app (the engine refused to stop or remove its container): the sweep goes on with the
        /// others. A failure that dooms every app (the engine or the state unreachable) ends the run. Null: the first failure ends it.
        /// </param>
        /// <remarks>
        /// With a ledger that writes nothing (-WhatIf, <see cref="IAllocationLedger.WritesNothing"/>) it only reports: no sample
        /// is recorded, no app lock taken (its lock file would be created), nothing stopped.
        /// </remarks>
        public IReadOnlyList<Preview> Reap(TimeSpan idleFor, Func<string, bool> appMatches, Func<string, string, bool> shouldStop, bool remove, bool keepAllocation,
            IOperationLog log, CancellationToken ct, Action<DyadPortsException> appFailed = null)
        {
            var snapshot = _allocator.TakeSnapshot(log, ct);
            // Under -WhatIf the ledger writes nothing (DyadSettings.WritesNothing): a file that needs a migration or a
            // recovery is read as the real run would find it, repaired in memory only, so the report is the real run's.
            var state = _allocator.ReadState(log, ct);
            var stopped = new List<Preview>();
            if (state == null) return stopped;
            var recordSamples = !_allocator.Ledger.WritesNothing;
            foreach (var record in state.Allocations.Values.Where(r => appMatches(r.AppId)).ToList())
            {
                ct.ThrowIfCancellationRequested();
                try
                {
                    if (ReapOne(record, snapshot, state, idleFor, shouldStop, remove, keepAllocation, recordSamples, log, ct) is Preview result) stopped.Add(result);
                }
                catch (DyadPortsException e) when (!e.IsTerminating && appFailed != null)
                {
                    appFailed(e);
                }
            }
            return stopped;
        }

        /// <summary>One app of a run: the preview it stopped, or null (kept, skipped, or only reported under -WhatIf).</summary>
        private Preview ReapOne(AllocationRecord record, EngineSnapshot snapshot, StateDocument state, TimeSpan idleFor, Func<string, string, bool> shouldStop,
            bool remove, bool keepAllocation, bool recordSamples, IOperationLog log, CancellationToken ct)
        {
            if (_allocator.Machine.OtherMachine(record) is string machine)
            {
                log.Verbose($"App {record.AppId}: its preview is on machine {machine}'s local engine or processes; left alone ({ErrorIds.RecordOnOtherMachine}).");
                return null;
            }
            var preview = PreviewOf(record, snapshot, state);
            if (preview == null) return null;
            if (!recordSamples)
            {
                // -WhatIf: the app's lock file would be created by taking it, so it is not taken; a start in
                // progress at worst makes the report one run out of date.
                var judged = Judge(record, preview, state, idleFor, log, ct);
                if (judged?.Verdict == IdleVerdict.Idle) shouldStop(record.AppId, Action(remove, keepAllocation, judged.Reason));
                return null;
            }
            AppLockWatch appLock;
            try
            {
                appLock = _launcher.LockApp(record.AppId, LockWait, log, ct);
            }
            catch (DyadPortsException e) when (e.ErrorId == ErrorIds.PreviewStartInProgress)
            {
                log.Verbose($"App {record.AppId}: its preview is being started or stopped right now; skipped.");
                return null;
            }
            using (appLock)
            {
                // Under the lock, the app must still have the preview judged: a restart in between is a new preview.
                var now = _allocator.ReadState(log, ct);
                if (now == null || !now.Allocations.TryGetValue(record.AppId, out var current) ||
                    current.ContainerId != record.ContainerId || current.ProcessId != record.ProcessId)
                {
                    log.Verbose($"App {record.AppId}: its preview changed while the reaper looked; skipped.");
                    return null;
                }
                var judged = Judge(record, preview, now, idleFor, log, ct);
                if (judged == null) return null;
                var kept = judged.Keep;
                Preview result = null;
                if (judged.Verdict == IdleVerdict.Idle && shouldStop(record.AppId, Action(remove, keepAllocation, judged.Reason)))
                {
                    result = _launcher.StopLocked(record.AppId, remove, keepAllocation, judged.Reason, log, ct);
                    kept = null;
                }
                Remember(record.AppId, kept, log, ct);
                appLock.WarnIfLost();
                return result;
            }
        }

        private IdleJudgement Judge(AllocationRecord record, string preview, StateDocument state, TimeSpan idleFor, IOperationLog log, CancellationToken ct)
        {
            var sample = _sampler.Sample(record, preview, log, ct);
            if (sample == null) return null;
            state.Activity.TryGetValue(record.AppId, out var previous);
            var judged = IdleJudge.Judge(previous, sample, idleFor);
            log.Verbose($"App {record.AppId}: {judged.Reason}.");
            return judged;
        }

        private static string Action(bool remove, bool keepAllocation, string reason) =>
            (remove ? "Remove its idle preview" : "Stop its idle preview") + (keepAllocation ? "" : " and release its port") + $" ({reason})";

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

        private void Remember(string appId, ActivitySample sample, IOperationLog log, CancellationToken ct)
        {
            _allocator.Ledger.Transact((state, _) =>
            {
                if (sample == null) state.Activity.Remove(appId);
                else if (state.Allocations.ContainsKey(appId)) state.Activity[appId] = sample;
                return 0;
            }, log, ct);
        }
    }
}
