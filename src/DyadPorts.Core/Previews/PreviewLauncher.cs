using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
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
        private readonly IPreviewHost _host;

        public PreviewLauncher(PortAllocator allocator)
        {
            _allocator = allocator;
            _host = allocator.Engine != null
                ? new ContainerPreviewHost(allocator.Engine, allocator.Kind)
                : (IPreviewHost)new ProcessPreviewHost(allocator.Store);
        }

        /// <summary>Runs after a port is chosen and before the preview is launched on it. Tests use it to lose a race for real.</summary>
        internal Action<int> BeforeStart { get; set; }

        /// <summary>Runs after the preview is launched and before it is recorded. Tests use it to change the state mid-start.</summary>
        internal Action<int> AfterLaunch { get; set; }

        /// <summary>How long a second start of the same app waits for the first one, beyond the first one's own timeout.</summary>
        internal static readonly TimeSpan AppLockMargin = TimeSpan.FromMinutes(2);

        /// <summary>The host name previews are reached at: "localhost", or a remote engine's host.</summary>
        private string UrlHost => EngineHost.UrlHost(_allocator.Endpoint);

        public Preview Start(PreviewRequest request, IOperationLog log, CancellationToken cancellationToken)
        {
            // For a remote engine, -Path is a path on the engine's host: this machine cannot check it.
            if (EngineHost.IsLocal(_allocator.Endpoint) && !Directory.Exists(request.Path))
            {
                throw new DyadPortsException(ErrorIds.PreviewPathNotFound, FailureCategory.ObjectNotFound, request.Path,
                    $"The app folder '{request.Path}' does not exist.");
            }
            using (LockApp(request.AppId, request.Timeout + AppLockMargin, log, cancellationToken))
            {
                return StartLocked(request, log, cancellationToken);
            }
        }

        /// <summary>
        /// One start (or stop) per app at a time, across threads, runspaces and processes: a lock file beside the
        /// state, released by the kernel when its holder dies. The second caller then finds the first one's preview.
        /// </summary>
        internal IDisposable LockApp(string appId, TimeSpan timeout, IOperationLog log, CancellationToken ct)
        {
            log.Verbose($"App {appId}: taking its start lock.");
            return _allocator.Store.LockApp(appId, timeout, (path, t) =>
                new DyadPortsException(ErrorIds.PreviewStartInProgress, FailureCategory.ResourceUnavailable, appId,
                    $"Another start or stop of app {appId} has held its lock ('{path}') for {t.TotalSeconds:0} s. Try again when it has finished; the lock goes away when that process ends."), ct);
        }

        private Preview StartLocked(PreviewRequest request, IOperationLog log, CancellationToken ct)
        {
            var appId = request.AppId;
            var snapshot = _allocator.TakeSnapshot(log, ct);
            var state = _allocator.ReadState(snapshot, log, ct);

            var running = _host.ReuseOrClear(appId, state, snapshot, log, ct, out var cleared);
            if (running == null && _host.Kind != EngineKind.Process && state.Allocations.TryGetValue(appId, out var had) && had.ProcessId != null)
            {
                // The app's process preview is replaced by a container: stopped now (only if provably ours), never left unmanaged.
                var stopped = ProcessPreviewHost.StopRecorded(had, log);
                _allocator.Journal(log, new PortEvent { Kind = PortEventKind.PreviewReplaced, AppId = appId, Port = had.Port, ProcessId = had.ProcessId, Reason = stopped?.State ?? "process" });
            }
            if (cleared)
            {
                // Every container of the app in the snapshot was removed (stopped, or running but unhealthy).
                _allocator.Journal(log, snapshot.ForApp(appId, state)
                    .Select(c => new PortEvent { Kind = PortEventKind.PreviewReplaced, AppId = appId, Port = c.TcpHostPorts.Cast<int?>().FirstOrDefault(), ContainerId = c.Id, Reason = c.IsRunning ? "unhealthy" : c.State }).ToArray());
            }
            if (running != null)
            {
                running.Port = _allocator.RecordRunning(appId, FindContainer(snapshot, running.ContainerId) ?? Summary(running), log, ct);
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
                ct.ThrowIfCancellationRequested();
                if (fresh || attempt > 1) snapshot = _allocator.TakeSnapshot(log, ct);
                fresh = false;
                if (request.AutoKillPort) snapshot = ReclaimOrphans(request, lost, snapshot, log, ct);

                var port = lastPort = _allocator.ReserveForStart(appId, request.Range, lost, snapshot, out var before, log, ct);
                if (!reservedOnce) { previous = before; reservedOnce = true; } // what the app had before this start
                BeforeStart?.Invoke(port);
                log.Verbose($"App {appId}: attempt {attempt} of {request.MaxRetries}: starting on port {port}.");
                LaunchedPreview launched;
                try
                {
                    launched = _host.Launch(request, port, state.StateId, log, ct);
                }
                catch (PortTakenException e)
                {
                    lost.Add(port);
                    _allocator.Journal(log, new PortEvent { Kind = PortEventKind.RaceLost, AppId = appId, Port = port, HeldBy = e.Message });
                    log.Verbose($"App {appId}: {(_host.Kind == EngineKind.Process ? "the last-moment probe" : "the engine")} refused port {port} ({e.Message}); it was taken after the check. Trying the next port.");
                    continue;
                }
                catch (Exception e)
                {
                    _allocator.ReleaseIfOwned(appId, port, null, null, log, previous);
                    throw Failed(Mapped(e, request, port), appId, port, null, null, log);
                }

                try
                {
                    AfterLaunch?.Invoke(port);
                    if (!_allocator.RecordPreview(appId, port, launched.ContainerId, launched.ContainerId != null ? request.Image : null, launched.ProcessId, launched.ProcessStartedAt, log, ct, launched.ProcessStartTicks))
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
                    _allocator.ReleaseIfOwned(appId, port, launched.ContainerId, launched.ProcessId, log, previous);
                    throw Failed(Mapped(e, request, port), appId, port, launched.ContainerId, launched.ProcessId, log);
                }
            }

            if (lastPort > 0) _allocator.ReleaseIfOwned(appId, lastPort, null, null, log, previous);
            throw Failed(new DyadPortsException(ErrorIds.PortConflictRetriesExhausted, FailureCategory.ResourceUnavailable, request.AppId,
                $"App {request.AppId}: {request.MaxRetries} port(s) in a row ({string.Join(", ", lost.OrderBy(p => p))}) were taken between the check and the start. " +
                "Something is grabbing ports in the range; retry, raise -MaxRetries, or choose another -PortRange. The app holds no allocation from this start."),
                appId, lastPort, null, null, log);
        }

        /// <summary>Journals a failed start (best effort: a state that cannot be written must not hide the start's own error).</summary>
        private Exception Failed(Exception e, string appId, int port, string containerId, int? processId, IOperationLog log)
        {
            if (e is OperationCanceledException || (e is DyadPortsException d && d.IsTerminating)) return e;
            try
            {
                _allocator.Journal(log, new PortEvent { Kind = PortEventKind.PreviewFailed, AppId = appId, Port = port, ContainerId = containerId, ProcessId = processId, Reason = (e as DyadPortsException)?.ErrorId ?? e.GetType().Name });
            }
            catch (DyadPortsException) { /* the start's own error is what the user needs */ }
            return e;
        }

        /// <summary>AUTO_KILL_PORT: orphans chosen under the lock, removed without it; the reservation that follows re-checks.</summary>
        private EngineSnapshot ReclaimOrphans(PreviewRequest request, ISet<int> lost, EngineSnapshot snapshot, IOperationLog log, CancellationToken ct)
        {
            var orphans = _allocator.Orphans(request.AppId, request.Range, lost, snapshot, log, ct);
            if (orphans.Count == 0) return snapshot;
            var gone = _host.Reclaim(orphans, log, ct);
            if (gone.Count == 0) return snapshot;
            _allocator.Journal(log, orphans.Where(o => gone.Contains(o.Container.Id))
                .Select(o => new PortEvent { Kind = PortEventKind.OrphanRemoved, AppId = o.Container.AppId, Port = o.Port, ContainerId = o.Container.Id, Reason = $"AUTO_KILL_PORT for app {request.AppId}" }).ToArray());
            return snapshot.Without(gone);
        }

        /// <summary>Every failure of a start as an error of its own: cancellation passes, DyadPorts errors pass, anything else is named.</summary>
        private static Exception Mapped(Exception e, PreviewRequest request, int port)
        {
            if (e is OperationCanceledException || e is DyadPortsException) return e;
            return new DyadPortsException(ErrorIds.ContainerStartFailed, FailureCategory.InvalidOperation, request.AppId,
                $"The preview of app {request.AppId} could not be started on port {port}: {e.Message} What this start launched was taken down and its port released.", e);
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
            using (LockApp(appId, TimeSpan.FromSeconds(30), log, ct))
            {
                return StopLocked(appId, remove, keepAllocation, reason, log, ct);
            }
        }

        internal Preview StopLocked(string appId, bool remove, bool keepAllocation, string reason, IOperationLog log, CancellationToken ct)
        {
            {
                var snapshot = _allocator.TakeSnapshot(log, ct);
                var state = _allocator.ReadState(snapshot, log, ct);
                state.Allocations.TryGetValue(appId, out var record);
                if (record?.ContainerId != null && record.EngineEndpoint != null && !string.Equals(record.EngineEndpoint, _allocator.Endpoint, StringComparison.Ordinal))
                {
                    // Its container lives on another engine: stopping nothing here and releasing its port would
                    // leave it running without a record, and make it an orphan later.
                    throw new DyadPortsException(ErrorIds.PreviewOnOtherEngine, FailureCategory.InvalidOperation, appId,
                        $"App {appId}'s preview is container {record.ContainerId.Substring(0, Math.Min(12, record.ContainerId.Length))} of the engine at '{record.EngineEndpoint}', " +
                        $"not of {(_allocator.Endpoint == null ? "the process engine" : $"'{_allocator.Endpoint}'")}. Nothing was stopped or released. Run it again with -EngineEndpoint {record.EngineEndpoint}.");
                }
                var result = _host.Stop(appId, record, state, snapshot, remove, log, ct);
                if (_host.Kind != EngineKind.Process && record?.ProcessId != null)
                {
                    result = ProcessPreviewHost.StopRecorded(record, log) ?? result;
                }
                if (record == null && result == null) return null;
                result = result ?? new Preview { AppId = appId, Port = record.Port, Engine = record.Engine, State = "stopped" };
                result.EngineEndpoint = result.EngineEndpoint ?? _allocator.Endpoint;
                result.Url = result.Port > 0 ? ReadinessWaiter.Url(UrlHost, result.Port) : null;
                _allocator.Journal(log, new PortEvent { Kind = PortEventKind.PreviewStopped, AppId = appId, Port = result.Port, ContainerId = result.ContainerId, ProcessId = result.ProcessId, Reason = reason ?? (remove ? "removed" : result.State) });
                if (!keepAllocation && record != null) _allocator.Release(appId, log, ct, reason ?? "preview stopped");
                return result;
            }
        }
    }
}
