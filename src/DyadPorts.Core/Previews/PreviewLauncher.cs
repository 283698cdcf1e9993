using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Ledger;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Previews
{
    /// <summary>
    /// The seed's preview.ts made race-free, as one flow for every kind of preview host: lock the app, reuse a
    /// running preview or clear a stopped one, reclaim orphans (AUTO_KILL_PORT), reserve, launch, record, wait.
    /// The engine arbitrates: a port lost between check and start is marked and the next one tried. A failure
    /// takes down only what this start launched, and releases only the allocation this start made.
    /// </summary>
    public sealed class PreviewLauncher
    {
        private readonly PortAllocator _allocator;
        private readonly IAllocationLedger _ledger;
        private readonly IPreviewHost _host;
        private readonly Lazy<IPreviewHost> _processes;

        /// <summary>The launcher with the allocator's own hosts: its engine's containers, or host processes beside its state.</summary>
        public PreviewLauncher(PortAllocator allocator) : this(allocator, PreviewHosts.For(allocator), new Lazy<IPreviewHost>(() => PreviewHosts.Processes(allocator)))
        {
        }

        /// <param name="host">Where this launcher's previews run.</param>
        /// <param name="processes">The process host, which stops an app's recorded process preview when a container replaces it.</param>
        internal PreviewLauncher(PortAllocator allocator, IPreviewHost host, IPreviewHost processes)
            : this(allocator, host, new Lazy<IPreviewHost>(() => processes))
        {
        }

        /// <param name="processes">Made only when an app's process preview must be stopped.</param>
        private PreviewLauncher(PortAllocator allocator, IPreviewHost host, Lazy<IPreviewHost> processes)
        {
            _allocator = allocator;
            _ledger = allocator.Ledger;
            _host = host;
            _processes = processes;
        }

        /// <summary>How long a second start of the same app waits for the first one, beyond the first one's own timeout.</summary>
        internal static readonly TimeSpan AppLockMargin = TimeSpan.FromMinutes(2);

        /// <summary>The host name previews are reached at: "localhost", or a remote engine's host.</summary>
        private string UrlHost => EngineHost.UrlHost(_allocator.Endpoint);

        public Preview Start(PreviewRequest request, IOperationLog log, CancellationToken cancellationToken)
        {
            // For a remote engine, -Path is a path on the engine's host: this machine cannot check it, only that it is absolute.
            if (EngineHost.IsLocal(_allocator.Endpoint))
            {
                if (!Directory.Exists(request.Path))
                {
                    throw new DyadPortsException(ErrorIds.PreviewPathNotFound, FailureCategory.ObjectNotFound, request.Path,
                        $"The app folder '{request.Path}' does not exist.");
                }
            }
            else if (!AppFolder.IsAbsoluteOnAnyHost(request.Path))
            {
                throw new DyadPortsException(ErrorIds.PreviewPathNotAbsolute, FailureCategory.InvalidArgument, request.Path,
                    $"The app folder '{request.Path}' is not an absolute path. The engine at '{_allocator.Endpoint}' mounts a folder of its own host, " +
                    "where this machine's current location means nothing: give -Path as the folder's absolute path on that host (/srv/apps/web, C:\\apps\\web).");
            }
            Preview started;
            using (var held = LockApp(request.AppId, request.Timeout + AppLockMargin, log, cancellationToken))
            {
                try
                {
                    started = StartLocked(request, log, cancellationToken);
                }
                catch (EngineRefusedException e)
                {
                    throw OfApp(e, request.AppId);
                }
                held.WarnIfLost();
            }
            return started;
        }

        /// <summary>The engine refused a request about this app's container: the app is the offending value, as in the other per-app failures.</summary>
        private static DyadPortsException OfApp(EngineRefusedException e, string appId) =>
            new DyadPortsException(e.ErrorId, e.Category, appId, $"App {appId}: {e.Message}", e);

        /// <summary>
        /// One start (or stop) per app at a time, across threads, runspaces and processes (<see cref="IAllocationLedger.LockApp"/>).
        /// The second caller then finds the first one's preview. A lock lost while held is warned about once released (<see cref="AppLockWatch"/>).
        /// </summary>
        internal AppLockWatch LockApp(string appId, TimeSpan timeout, IOperationLog log, CancellationToken ct)
        {
            log.Verbose($"App {appId}: taking its start lock.");
            return new AppLockWatch(_ledger.LockApp(appId, timeout, (path, t) =>
                new DyadPortsException(ErrorIds.PreviewStartInProgress, FailureCategory.ResourceUnavailable, appId,
                    $"Another start or stop of app {appId} has held its lock ('{path}') for {t.TotalSeconds:0} s. Try again when it has finished; the lock goes away when that process ends."), ct), appId, log);
        }

        /// <summary>
        /// The start, in order: one snapshot and one read (no lock while the state is sound), reuse or clear, then
        /// per attempt a reservation (lock 1) and the record of what was launched (lock 2). Decisions made on the way
        /// (previews replaced, races lost, orphans removed) ride along with the next transaction.
        /// </summary>
        private Preview StartLocked(PreviewRequest request, IOperationLog log, CancellationToken ct)
        {
            var appId = request.AppId;
            var snapshot = _allocator.TakeSnapshot(log, ct);
            var state = _allocator.ReadState(log, ct);
            if (state.Allocations.TryGetValue(appId, out var recorded) && _allocator.OnOtherMachine(recorded, "started, reused or moved", "move it here first with Request-DyadPort -Force or Remove-DyadPortAllocation -Force") is DyadPortsException elsewhere)
            {
                // Another machine's local engine or processes run it: a start here would move it and leave that preview untracked.
                throw elsewhere;
            }
            var pending = new List<PortEvent>();

            var running = _host.ReuseOrClear(appId, state, snapshot, log, ct, out var cleared);
            if (running == null && _host.Kind != EngineKind.Process && state.Allocations.TryGetValue(appId, out var had) && had.ProcessId != null)
            {
                // The app's process preview is replaced by a container: stopped now (only if provably ours), never left unmanaged.
                var stopped = _processes.Value.Stop(appId, had, state, EngineSnapshot.None, remove: true, log, ct);
                pending.Add(new PortEvent { Kind = PortEventKind.PreviewReplaced, AppId = appId, Port = had.Port, ProcessId = had.ProcessId, Reason = stopped?.State ?? "process" });
            }
            if (cleared)
            {
                // Every container of the app in the snapshot was removed (stopped, or running but unhealthy).
                pending.AddRange(snapshot.ForAppAnyClaim(appId, state)
                    .Select(c => new PortEvent { Kind = PortEventKind.PreviewReplaced, AppId = appId, Port = c.TcpHostPorts.Cast<int?>().FirstOrDefault(), ContainerId = c.Id, Reason = c.IsRunning ? "unhealthy" : c.State }));
            }
            if (running != null)
            {
                running.Port = _allocator.RecordRunning(appId, FindContainer(snapshot, running.ContainerId) ?? Summary(running), pending, log, ct);
                running.Url = ReadinessWaiter.Url(UrlHost, running.Port);
                log.Verbose($"App {appId}: its preview already runs on port {running.Port}; nothing started.");
                return running;
            }

            _host.Prepare(request, log, ct);

            var lost = new HashSet<int>();
            var fresh = cleared;
            var lastPort = 0;
            AllocationRecord previous = null;
            var reservedOnce = false;
            for (var attempt = 1; attempt <= request.MaxRetries; attempt++)
            {
                int port;
                long? claim;
                try
                {
                    ct.ThrowIfCancellationRequested();
                    if (fresh || attempt > 1) snapshot = _allocator.TakeSnapshot(log, ct);
                    fresh = false;
                    if (request.AutoKillPort) snapshot = ReclaimOrphans(request, lost, snapshot, pending, log, ct);
                    port = lastPort = _allocator.ReserveForStart(appId, request.Range, lost, snapshot, pending.ToArray(), out var before, out claim, log, ct);
                    if (!reservedOnce) { previous = before; reservedOnce = true; } // what the app had before this start
                }
                catch (Exception e)
                {
                    // A later attempt could not reserve (range exhausted, cancelled, engine gone): the reservation an
                    // earlier attempt made is given back, and this start's decisions so far are journaled with it.
                    GiveBack(appId, reservedOnce ? lastPort : 0, previous, pending.Concat(Failure(e, appId, lastPort, null, null)).ToArray(), log);
                    throw;
                }
                pending.Clear();
                log.Verbose($"App {appId}: attempt {attempt} of {request.MaxRetries}: starting on port {port}.");
                LaunchedPreview launched;
                try
                {
                    launched = _host.Launch(request.UnderClaim(claim), port, state.StateId, log, ct); // its containers carry the claim
                }
                catch (PortTakenException e)
                {
                    lost.Add(port);
                    pending.Add(new PortEvent { Kind = PortEventKind.RaceLost, AppId = appId, Port = port, HeldBy = e.Message });
                    log.Verbose($"App {appId}: {(_host.Kind == EngineKind.Process ? "the last-moment probe" : "the engine")} refused port {port} ({e.Message}); it was taken after the check. Trying the next port.");
                    continue;
                }
                catch (Exception e)
                {
                    var failure = Mapped(e, request, port, ct);
                    _allocator.ReleaseIfOwned(appId, port, null, null, log, previous, Failure(failure, appId, port, null, null));
                    throw failure;
                }

                try
                {
                    if (!_allocator.RecordPreview(appId, port, launched, launched.ContainerId != null ? request.Image : null, log, ct))
                    {
                        _host.Discard(launched, state.StateId, log);
                        lost.Add(port);
                        continue;
                    }
                    if (!request.NoWait)
                    {
                        ReadinessWaiter.Wait(request, UrlHost, port,
                            stillRunning: () => _host.StillRunning(launched, ct),
                            logs: () => _host.Logs(launched, ct), log, ct);
                    }
                    var preview = _host.Describe(launched, ct);
                    preview.Url = ReadinessWaiter.Url(UrlHost, port);
                    preview.PortsLostToRaces = lost.OrderBy(p => p).ToArray();
                    return preview;
                }
                catch (Exception e)
                {
                    _host.Discard(launched, state.StateId, log);
                    var failure = Mapped(e, request, port, ct);
                    _allocator.ReleaseIfOwned(appId, port, launched.ContainerId, launched.ProcessId, log, previous, Failure(failure, appId, port, launched.ContainerId, launched.ProcessId));
                    throw failure;
                }
            }

            var exhausted = new DyadPortsException(ErrorIds.PortConflictRetriesExhausted, FailureCategory.ResourceUnavailable, request.AppId,
                $"App {request.AppId}: {request.MaxRetries} port(s) in a row ({string.Join(", ", lost.OrderBy(p => p))}) were taken between the check and the start. " +
                "Something is grabbing ports in the range; retry, raise -MaxRetries, or choose another -PortRange. The app holds no allocation from this start.");
            GiveBack(appId, lastPort, previous, pending.Concat(Failure(exhausted, appId, lastPort, null, null)).ToArray(), log);
            throw exhausted;
        }

        /// <summary>
        /// After a failure before anything was launched: releases the allocation an earlier attempt reserved (if it is
        /// still that one) with <paramref name="events"/>, or journals them alone. Never hides the start's own error.
        /// </summary>
        private void GiveBack(string appId, int reservedPort, AllocationRecord previous, PortEvent[] events, IOperationLog log)
        {
            try
            {
                if (reservedPort > 0) _allocator.ReleaseIfOwned(appId, reservedPort, null, null, log, previous, events);
                else _allocator.Journal(log, CancellationToken.None, events);
            }
            catch (DyadPortsException e)
            {
                log.Verbose($"App {appId}: cleaning up after the failed start failed too ({e.ErrorId}); the start's own error follows.");
            }
        }

        /// <summary>A failed start's journal line, recorded with the release that cleans up after it; none for a cancellation or a terminating failure.</summary>
        private static PortEvent[] Failure(Exception e, string appId, int port, string containerId, int? processId) =>
            e is OperationCanceledException || (e is DyadPortsException d && d.IsTerminating)
                ? Array.Empty<PortEvent>()
                : new[] { new PortEvent { Kind = PortEventKind.PreviewFailed, AppId = appId, Port = port > 0 ? port : null, ContainerId = containerId, ProcessId = processId, Reason = (e as DyadPortsException)?.ErrorId ?? e.GetType().Name } };

        /// <summary>AUTO_KILL_PORT: orphans chosen under the lock, removed without it; the reservation that follows re-checks.</summary>
        /// <remarks>The removals are journaled with the reservation that follows (<paramref name="pending"/>).</remarks>
        private EngineSnapshot ReclaimOrphans(PreviewRequest request, ISet<int> lost, EngineSnapshot snapshot, List<PortEvent> pending, IOperationLog log, CancellationToken ct)
        {
            var orphans = _allocator.Orphans(request.AppId, request.Range, lost, snapshot, _allocator.ReadState(log, ct), log);
            if (orphans.Count == 0) return snapshot;
            var gone = _host.Reclaim(orphans, log, ct);
            if (gone.Count == 0) return snapshot;
            pending.AddRange(orphans.Where(o => gone.Contains(o.Container.Id))
                .Select(o => new PortEvent { Kind = PortEventKind.OrphanRemoved, AppId = o.Container.AppId, Port = o.Port, ContainerId = o.Container.Id, Reason = $"AUTO_KILL_PORT for app {request.AppId}" }));
            return snapshot.Without(gone);
        }

        /// <summary>
        /// Every failure of a start as an error of its own: cancellation passes, DyadPorts errors pass, anything else is
        /// named. Once the caller has cancelled, whatever broke on the way out (PowerShell's own writers throw while a
        /// pipeline stops) is the cancellation, not a failed start to journal.
        /// </summary>
        private static Exception Mapped(Exception e, PreviewRequest request, int port, CancellationToken ct)
        {
            if (ct.IsCancellationRequested && e is not OperationCanceledException) return new OperationCanceledException($"The start of app {request.AppId} was cancelled.", e, ct);
            if (e is OperationCanceledException || e is DyadPortsException) return e;
            return new DyadPortsException(ErrorIds.ContainerStartFailed, FailureCategory.InvalidOperation, request.AppId,
                $"The preview of app {request.AppId} could not be started on port {port}: {e.Message} What this start launched was taken down, and the app's allocation is as it was before this start.", e);
        }

        private static ContainerSummary FindContainer(EngineSnapshot snapshot, string id) =>
            id == null ? null : snapshot.Containers.FirstOrDefault(c => c.Id == id);

        private static ContainerSummary Summary(Preview preview) => new ContainerSummary
        {
            Id = preview.ContainerId,
            Name = preview.ContainerName,
            Image = preview.Image,
            State = "running",
            Ports = new[] { new PublishedPort(preview.Port, null, preview.Port, "tcp") },
        };

        // ---- stop -------------------------------------------------------------------------------------

        /// <summary>
        /// Stops (or with <paramref name="remove"/> removes) the app's own previews of this state, then releases
        /// the allocation unless <paramref name="keepAllocation"/>. Null when the app has nothing to stop.
        /// </summary>
        public Preview Stop(string appId, bool remove, bool keepAllocation, IOperationLog log, CancellationToken ct, string reason = null)
        {
            using (var held = LockApp(appId, TimeSpan.FromSeconds(30), log, ct))
            {
                var stopped = StopLocked(appId, remove, keepAllocation, reason, log, ct);
                held.WarnIfLost();
                return stopped;
            }
        }

        internal Preview StopLocked(string appId, bool remove, bool keepAllocation, string reason, IOperationLog log, CancellationToken ct)
        {
            var snapshot = _allocator.TakeSnapshot(log, ct);
            var state = _allocator.ReadState(log, ct);
            state.Allocations.TryGetValue(appId, out var record);
            if (record != null && _allocator.OnOtherMachine(record, "stopped, removed or released") is DyadPortsException elsewhere) throw elsewhere;
            if (record?.ContainerId != null && record.EngineEndpoint != null && !EngineHost.SameEngine(record.EngineEndpoint, _allocator.Endpoint))
            {
                // Its container lives on another engine: stopping nothing here and releasing its port would
                // leave it running without a record, and make it an orphan later.
                throw new DyadPortsException(ErrorIds.PreviewOnOtherEngine, FailureCategory.InvalidOperation, appId,
                    $"App {appId}'s preview is container {record.ContainerId.Substring(0, Math.Min(12, record.ContainerId.Length))} of the engine at '{record.EngineEndpoint}', " +
                    $"not of {(_allocator.Endpoint == null ? "the process engine" : $"'{_allocator.Endpoint}'")}. Nothing was stopped or released. Run it again with -EngineEndpoint {record.EngineEndpoint}.");
            }
            Preview result;
            try
            {
                result = _host.Stop(appId, record, state, snapshot, remove, log, ct);
            }
            catch (EngineRefusedException e)
            {
                throw OfApp(e, appId);
            }
            if (_host.Kind != EngineKind.Process && record?.ProcessId != null)
            {
                result = _processes.Value.Stop(appId, record, state, EngineSnapshot.None, remove, log, ct) ?? result;
            }
            if (record == null && result == null) return null;
            result = result ?? new Preview { AppId = appId, Port = record.Port, Engine = record.Engine, State = "stopped" };
            result.EngineEndpoint = result.EngineEndpoint ?? _allocator.Endpoint;
            result.Url = result.Port > 0 ? ReadinessWaiter.Url(UrlHost, result.Port) : null;
            var stopped = new PortEvent { Kind = PortEventKind.PreviewStopped, AppId = appId, Port = result.Port, ContainerId = result.ContainerId, ProcessId = result.ProcessId, Reason = reason ?? (remove ? "removed" : result.State) };
            // One transaction: the stop is journaled with the release, or alone when the allocation stays.
            if (!keepAllocation && record != null) _allocator.Release(appId, log, ct, reason ?? "preview stopped", new[] { stopped });
            else _allocator.Journal(log, ct, stopped);
            return result;
        }
    }

    /// <summary>The preview hosts an allocator implies: its engine's containers, or host processes beside its state.</summary>
    internal static class PreviewHosts
    {
        public static IPreviewHost For(PortAllocator allocator) =>
            allocator.Engine.Engine != null ? new ContainerPreviewHost(allocator.Engine.Engine, allocator.Kind) : Processes(allocator);

        public static IPreviewHost Processes(PortAllocator allocator)
        {
            if (allocator.ProcessLogFolder != null) return new ProcessPreviewHost(allocator.ProcessLogFolder);
            if (allocator.Ledger is FileLedger file) return new ProcessPreviewHost(file.Store);
            throw new DyadPortsException(ErrorIds.PreviewCommandFailed, FailureCategory.InvalidOperation, allocator.Ledger.Location,
                $"Process previews keep their logs in a local folder, and none was given for the state at {allocator.Ledger.Location}.");
        }
    }
}
