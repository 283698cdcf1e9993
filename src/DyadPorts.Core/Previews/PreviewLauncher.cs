using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using Docker.DotNet;
using Docker.DotNet.Models;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Availability;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Previews
{
    /// <summary>
    /// The seed's preview.ts made race-free: reuse a running preview, replace a stopped one, allocate,
    /// start, and let the engine arbitrate: a port lost between check and start is marked and the next one tried.
    /// </summary>
    public sealed class PreviewLauncher
    {
        private const int LogLines = 20;
        private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);
        private readonly PortAllocator _allocator;

        public PreviewLauncher(PortAllocator allocator)
        {
            _allocator = allocator;
        }

        /// <summary>Runs after a port is chosen and before the engine is asked to start on it. Tests use it to lose a race for real.</summary>
        internal Action<int> BeforeStart { get; set; }

        private ContainerEngine Engine => _allocator.Engine;
        private StateStore Store => _allocator.Store;

        public Preview Start(PreviewRequest request, IOperationLog log, CancellationToken cancellationToken)
        {
            if (!Directory.Exists(request.Path))
            {
                throw new DyadPortsException(ErrorIds.PreviewPathNotFound, FailureCategory.ObjectNotFound, request.Path,
                    $"The app folder '{request.Path}' does not exist.");
            }
            return Engine == null ? StartProcess(request, log, cancellationToken) : StartContainer(request, log, cancellationToken);
        }

        // ---- containers -------------------------------------------------------------------------------

        private Preview StartContainer(PreviewRequest request, IOperationLog log, CancellationToken ct)
        {
            var appId = request.AppId;
            var name = AppIds.ContainerName(appId);
            var snapshot = _allocator.TakeSnapshot(log, ct);

            var sameName = snapshot.Containers.FirstOrDefault(c => c.Name == name);
            if (sameName != null && !sameName.IsManaged && !sameName.IsRunning)
            {
                throw new DyadPortsException(ErrorIds.ContainerNameInUse, FailureCategory.ResourceExists, name,
                    $"A container named '{name}' exists ({sameName.State}) but DyadPorts did not create it (no {ContainerSummary.ManagedLabel} label), so it will not remove it. Remove or rename it yourself.");
            }

            // 1. Running already: return it, with the port the engine reports.
            var running = snapshot.ForApp(appId).FirstOrDefault(c => c.IsRunning && c.TcpHostPorts.Any());
            if (running != null)
            {
                var inspected = Engine.InspectOrNull(running.Id, ct);
                if (inspected?.State?.Health?.Status != "unhealthy")
                {
                    var port = Store.Update(state => RecordRunning(state, appId, running, inspected), () => _allocator.Rebuild(snapshot), log, ct);
                    log.Verbose($"App {appId}: {running.Describe()} already runs on port {port}; nothing started.");
                    return ContainerPreview(appId, port, running.Id, running.Name, running.Image, inspected);
                }
                log.Verbose($"App {appId}: {running.Describe()} is unhealthy; replacing it.");
            }

            // 2. Exists but not running (or unhealthy): remove ours and release the allocation.
            var replaced = false;
            foreach (var old in snapshot.ForApp(appId).Where(c => c.IsManaged))
            {
                log.Verbose($"App {appId}: removing {old.Describe()}, which still reserves port(s) {string.Join(", ", old.TcpHostPorts)}.");
                Engine.Remove(old.Id, ct);
                replaced = true;
            }
            if (replaced) _allocator.Release(appId, log, ct);

            var image = request.Image;
            EnsureImage(image, log, ct);

            // 3-5. Allocate, create, start; the engine is the arbiter.
            var lost = new HashSet<int>();
            for (var attempt = 1; attempt <= request.MaxRetries; attempt++)
            {
                ct.ThrowIfCancellationRequested();
                // The first attempt reuses the snapshot taken above unless containers were removed since.
                var port = Reserve(request, lost, attempt == 1 && !replaced ? snapshot : null, log, ct);
                BeforeStart?.Invoke(port);
                log.Verbose($"App {appId}: attempt {attempt} of {request.MaxRetries}: starting {name} from {image} on port {port}.");
                string id = null;
                try
                {
                    id = Engine.Create(ContainerParameters(request, name, image, port), ct);
                    Engine.Start(id, ct);
                }
                catch (DockerApiException e) when (IsPortConflict(e.Message))
                {
                    RemoveQuietly(id);
                    lost.Add(port);
                    log.Verbose($"App {appId}: the engine refused port {port} ({FirstLine(e.Message)}); it was taken after the check. Trying the next port.");
                    continue;
                }
                catch (Exception e) when (!(e is OperationCanceledException))
                {
                    RemoveQuietly(id);
                    _allocator.Release(appId, log, CancellationToken.None);
                    if (e is DyadPortsException) throw;
                    throw new DyadPortsException(ErrorIds.ContainerStartFailed, FailureCategory.InvalidOperation, appId,
                        $"The engine could not start {name} on port {port}: {FirstLine(e.Message)}", e);
                }
                catch (OperationCanceledException)
                {
                    RemoveQuietly(id);
                    _allocator.Release(appId, log, CancellationToken.None);
                    throw;
                }

                Store.Update(state => { if (state.Allocations.TryGetValue(appId, out var r)) { r.ContainerId = id; r.Image = image; } return 0; }, () => _allocator.Rebuild(null), log, ct);
                var preview = ContainerPreview(appId, port, id, name, image, null);
                preview.PortsLostToRaces = lost.OrderBy(p => p).ToArray();
                if (!request.NoWait)
                {
                    WaitUntilAnswering(request, port, log, ct,
                        stillRunning: () => Engine.InspectOrNull(id, ct)?.State?.Running == true,
                        logs: () => Engine.LogsTail(id, LogLines, ct),
                        cleanUp: () => { RemoveQuietly(id); _allocator.Release(appId, log, CancellationToken.None); });
                }
                var started = Engine.InspectOrNull(id, ct);
                preview.State = started?.State?.Status ?? "running";
                preview.StartedAt = ParseTime(started?.State?.StartedAt);
                return preview;
            }

            throw RetriesExhausted(request, lost, log);
        }

        private int RecordRunning(StateDocument state, string appId, ContainerSummary running, ContainerInspectResponse inspected)
        {
            state.Allocations.TryGetValue(appId, out var record);
            var port = running.TcpHostPorts.Contains(record?.Port ?? 0) ? record.Port : running.TcpHostPorts.First();
            if (record == null || record.Port != port)
            {
                record = new AllocationRecord { AppId = appId, Port = port, AllocatedAt = DateTimeOffset.UtcNow };
                state.Allocations[appId] = record;
            }
            record.Engine = _allocator.Kind;
            record.EngineEndpoint = _allocator.Endpoint;
            record.ContainerId = running.Id;
            record.Image = running.Image;
            return port;
        }

        /// <summary>Allocates under the state lock with -Force semantics; with AUTO_KILL_PORT it reclaims ports held by stale DyadPorts containers.</summary>
        private int Reserve(PreviewRequest request, ISet<int> lost, EngineSnapshot snapshot, IOperationLog log, CancellationToken ct)
        {
            snapshot = snapshot ?? _allocator.TakeSnapshot(log, ct);
            return Store.Update(state =>
            {
                var occupancy = _allocator.Occupy(snapshot, state);
                Func<int, PortHolder> holderOf = port => occupancy.HolderOf(port, request.AppId);
                if (request.AutoKillPort) holderOf = port => HolderAfterAutoKill(port, request.AppId, occupancy, state, log, ct);
                var portRequest = new PortRequest { Range = request.Range, Force = true, Excluded = lost };
                return _allocator.Reserve(request.AppId, portRequest, occupancy, state, holderOf, log).Port;
            }, () => _allocator.Rebuild(snapshot), log, ct);
        }

        /// <summary>
        /// AUTO_KILL_PORT: a stopped container DyadPorts created is removed and its port taken. Never an
        /// unlabelled container, never a running preview, never a host process: those ports are passed over.
        /// </summary>
        private PortHolder HolderAfterAutoKill(int port, string appId, Occupancy occupancy, StateDocument state, IOperationLog log, CancellationToken ct)
        {
            var holder = occupancy.HolderOf(port, appId);
            if (holder == null) return null;
            var container = holder.Container;
            if (holder.Source == PortHolderSource.Container && container.IsManaged && !container.IsRunning)
            {
                log.Verbose($"AUTO_KILL_PORT: port {port} is held by stale DyadPorts {container.Describe()}; removing it.");
                Engine.Remove(container.Id, ct);
                occupancy.Forget(container.Id);
                if (container.AppId != null && state.Allocations.TryGetValue(container.AppId, out var owner) && owner.Port == port)
                {
                    state.Allocations.Remove(container.AppId);
                }
                return occupancy.HolderOf(port, appId);
            }
            var why = holder.Source == PortHolderSource.Host ? "DyadPorts never kills host processes"
                : holder.Source == PortHolderSource.Allocation ? "another app has it reserved"
                : !container.IsManaged ? $"that container has no {ContainerSummary.ManagedLabel} label, and DyadPorts never removes containers it did not create"
                : "that preview is running";
            log.Verbose($"AUTO_KILL_PORT: port {port} is held by {holder.Description}; {why}. Trying the next port.");
            return holder;
        }

        private void EnsureImage(string image, IOperationLog log, CancellationToken ct)
        {
            if (Engine.ImageExists(image, ct)) return;
            var activity = $"Pulling {image}";
            log.Verbose($"Image {image} is not present in {_allocator.Kind}; pulling it.");
            try
            {
                Engine.Pull(image, m =>
                {
                    var current = m.Progress?.Current ?? 0;
                    var total = m.Progress?.Total ?? 0;
                    log.Progress(activity, $"{m.ID} {m.Status}".Trim(), total > 0 ? (int)(current * 100 / total) : -1);
                }, ct);
            }
            catch (DockerApiException e)
            {
                throw ImageNotFound(image, FirstLine(e.Message), e);
            }
            finally
            {
                log.Progress(activity, null, 100);
            }
            if (!Engine.ImageExists(image, ct)) throw ImageNotFound(image, "the pull finished but the image is still missing", null);
        }

        private DyadPortsException ImageNotFound(string image, string why, Exception inner)
        {
            var tool = _allocator.Kind == EngineKind.Podman ? "podman" : "docker";
            return new DyadPortsException(ErrorIds.ImageNotFound, FailureCategory.ObjectNotFound, image,
                $"The image '{image}' is not in the {_allocator.Kind} engine and could not be pulled: {why}. " +
                $"Pull it where a registry is reachable, build it ('{tool} build -t {image} .'), or import one ('{tool} load -i image.tar'), then pass it with -Image or DYAD_PREVIEW_IMAGE.", inner);
        }

        internal static CreateContainerParameters ContainerParameters(PreviewRequest request, string name, string image, int port)
        {
            var portKey = port.ToString(CultureInfo.InvariantCulture) + "/tcp";
            var portText = port.ToString(CultureInfo.InvariantCulture);
            return new CreateContainerParameters
            {
                Name = name,
                Image = image,
                Cmd = request.IsShellCommand ? new List<string> { "sh", "-c", request.ShellCommand } : request.Command.ToList(),
                Env = new List<string> { "PORT=" + portText, "VITE_PORT=" + portText, "HOST=0.0.0.0" },
                WorkingDir = "/app",
                ExposedPorts = new Dictionary<string, EmptyStruct> { [portKey] = default },
                Labels = new Dictionary<string, string>
                {
                    [ContainerSummary.AppIdLabel] = request.AppId,
                    [ContainerSummary.ManagedLabel] = "true",
                },
                HostConfig = new HostConfig
                {
                    PortBindings = new Dictionary<string, IList<PortBinding>> { [portKey] = new List<PortBinding> { new PortBinding { HostPort = portText } } },
                    Binds = new List<string> { Path.GetFullPath(request.Path) + ":/app" },
                    NanoCPUs = request.Limits.NanoCpus,
                    Memory = request.Limits.MemoryBytes,
                },
            };
        }

        /// <summary>The engines' words for "someone else has this host port": docker and podman, Linux and macOS.</summary>
        public static bool IsPortConflict(string message) =>
            message != null && PortConflictTexts.Any(text => message.Contains(text, StringComparison.OrdinalIgnoreCase));

        private static readonly string[] PortConflictTexts = { "port is already allocated", "address already in use", "proxy already running" };

        private Preview ContainerPreview(string appId, int port, string id, string name, string image, ContainerInspectResponse inspected) => new Preview
        {
            AppId = appId,
            Port = port,
            Url = Url(port),
            ContainerName = name,
            ContainerId = id,
            Engine = _allocator.Kind,
            EngineEndpoint = _allocator.Endpoint,
            Image = image,
            State = inspected?.State?.Status ?? "running",
            StartedAt = ParseTime(inspected?.State?.StartedAt),
        };

        private void RemoveQuietly(string id)
        {
            if (id == null) return;
            try { Engine.Remove(id, CancellationToken.None); }
            catch (DyadPortsException) { /* the engine went away; nothing more can be done from here */ }
        }

        // ---- processes --------------------------------------------------------------------------------

        private Preview StartProcess(PreviewRequest request, IOperationLog log, CancellationToken ct)
        {
            var appId = request.AppId;
            var existing = Store.Read(() => _allocator.Rebuild(null), log, ct).Allocations.TryGetValue(appId, out var r) ? r : null;
            if (existing != null && PreviewProcesses.IsAlive(existing))
            {
                log.Verbose($"App {appId}: its preview process {existing.ProcessId} already runs on port {existing.Port}; nothing started.");
                return ProcessPreview(existing);
            }

            var lost = new HashSet<int>();
            for (var attempt = 1; attempt <= request.MaxRetries; attempt++)
            {
                var port = Reserve(request, lost, null, log, ct);
                BeforeStart?.Invoke(port);
                if (!HostPortProbe.Instance.IsFree(port))
                {
                    // No engine arbitrates here: the last-moment probe plays its part.
                    lost.Add(port);
                    log.Verbose($"App {appId}: port {port} was taken after the check; trying the next port.");
                    continue;
                }
                var logPath = ProcessPreviewHost.LogPath(Store, appId);
                log.Verbose($"App {appId}: attempt {attempt}: starting the preview process on port {port} in {request.Path}; output goes to {logPath}.");
                var process = ProcessPreviewHost.Start(request, port, logPath);
                var record = Store.Update(state =>
                {
                    var rec = state.Allocations[appId];
                    rec.ProcessId = process.Id;
                    rec.ProcessStartedAt = PreviewProcesses.StartedAt(process);
                    rec.ContainerId = null;
                    return rec;
                }, () => _allocator.Rebuild(null), log, ct);
                if (!request.NoWait)
                {
                    WaitUntilAnswering(request, port, log, ct,
                        stillRunning: () => !process.HasExited,
                        logs: () => ProcessPreviewHost.LogTail(logPath, LogLines),
                        cleanUp: () => { ProcessPreviewHost.Stop(record); _allocator.Release(appId, log, CancellationToken.None); });
                }
                var preview = ProcessPreview(record);
                preview.PortsLostToRaces = lost.OrderBy(p => p).ToArray();
                return preview;
            }
            throw RetriesExhausted(request, lost, log);
        }

        private static Preview ProcessPreview(AllocationRecord record) => new Preview
        {
            AppId = record.AppId,
            Port = record.Port,
            Url = Url(record.Port),
            ProcessId = record.ProcessId,
            Engine = EngineKind.Process,
            State = "running",
            StartedAt = record.ProcessStartedAt,
        };

        /// <summary>Every attempt lost its port to someone faster: release the app's allocation and say so.</summary>
        private DyadPortsException RetriesExhausted(PreviewRequest request, ISet<int> lost, IOperationLog log)
        {
            _allocator.Release(request.AppId, log, CancellationToken.None);
            return new DyadPortsException(ErrorIds.PortConflictRetriesExhausted, FailureCategory.ResourceUnavailable, request.AppId,
                $"App {request.AppId}: {request.MaxRetries} port(s) in a row ({string.Join(", ", lost.OrderBy(p => p))}) were taken between the check and the start. " +
                "Something is grabbing ports in the range; retry, raise -MaxRetries, or choose another -PortRange.");
        }

        // ---- stop -------------------------------------------------------------------------------------

        /// <summary>
        /// Stops (or with <paramref name="remove"/> removes) the app's DyadPorts containers and preview process,
        /// then releases the allocation unless <paramref name="keepAllocation"/>. Null when the app has nothing to stop.
        /// </summary>
        public Preview Stop(string appId, bool remove, bool keepAllocation, IOperationLog log, CancellationToken ct)
        {
            var state = Store.Read(() => _allocator.Rebuild(_allocator.TakeSnapshot(log, ct)), log, ct);
            state.Allocations.TryGetValue(appId, out var record);
            var ours = Engine == null ? new List<ContainerSummary>() : _allocator.TakeSnapshot(log, ct).ForApp(appId).Where(c => c.IsManaged).ToList();
            if (record == null && ours.Count == 0) return null;

            var result = new Preview { AppId = appId, Port = record?.Port ?? 0, Engine = record?.Engine ?? _allocator.Kind, EngineEndpoint = _allocator.Endpoint, State = "stopped" };
            result.Url = result.Port > 0 ? Url(result.Port) : null;
            foreach (var container in ours)
            {
                result.ContainerId = container.Id;
                result.ContainerName = container.Name;
                result.Image = container.Image;
                if (remove)
                {
                    log.Verbose($"App {appId}: removing {container.Describe()}.");
                    Engine.Remove(container.Id, ct);
                    result.State = "removed";
                }
                else if (container.IsRunning)
                {
                    log.Verbose($"App {appId}: stopping {container.Describe()}.");
                    Engine.Stop(container.Id, TimeSpan.FromSeconds(5), ct);
                    result.State = "exited";
                }
            }
            if (record?.ProcessId != null)
            {
                result.ProcessId = record.ProcessId;
                if (ProcessPreviewHost.Stop(record)) log.Verbose($"App {appId}: stopped its preview process {record.ProcessId}.");
                result.State = "exited";
            }
            if (!keepAllocation && record != null) _allocator.Release(appId, log, ct);
            return result;
        }

        // ---- shared ------------------------------------------------------------------------------------

        /// <summary>Polls for an HTTP answer on 127.0.0.1:port with progress; fails with the preview's last log lines if it dies first.</summary>
        [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1068", Justification = "Private; the callbacks read better last at both call sites.")]
        private static void WaitUntilAnswering(PreviewRequest request, int port, IOperationLog log, CancellationToken ct,
            Func<bool> stillRunning, Func<string> logs, Action cleanUp)
        {
            var activity = $"Starting preview of app {request.AppId}";
            var watch = Stopwatch.StartNew();
            var nextLivenessCheck = TimeSpan.Zero;
            try
            {
                while (true)
                {
                    if (ct.IsCancellationRequested) { cleanUp(); ct.ThrowIfCancellationRequested(); }
                    if (ReadinessProbe.Answers(port, TimeSpan.FromMilliseconds(500)))
                    {
                        log.Verbose($"App {request.AppId}: {Url(port)} answered after {watch.Elapsed.TotalSeconds:0.0} s.");
                        return;
                    }
                    if (watch.Elapsed >= nextLivenessCheck)
                    {
                        nextLivenessCheck = watch.Elapsed + TimeSpan.FromSeconds(1);
                        if (!stillRunning())
                        {
                            var tail = logs();
                            cleanUp();
                            throw new DyadPortsException(ErrorIds.PreviewExitedEarly, FailureCategory.InvalidOperation, request.AppId,
                                $"The preview of app {request.AppId} exited before {Url(port)} answered. It was removed and its port released. Last log lines:{Environment.NewLine}{tail}");
                        }
                    }
                    if (watch.Elapsed >= request.Timeout)
                    {
                        var tail = logs();
                        cleanUp();
                        throw new DyadPortsException(ErrorIds.PreviewTimeout, FailureCategory.OperationTimeout, request.AppId,
                            $"The preview of app {request.AppId} did not answer on {Url(port)} within {request.Timeout.TotalSeconds:0} s; it was removed and its port released. " +
                            $"Raise -TimeoutSec for slow installs, or use -NoWait. Last log lines:{Environment.NewLine}{tail}");
                    }
                    var percent = (int)(100 * watch.Elapsed.TotalSeconds / request.Timeout.TotalSeconds);
                    log.Progress(activity, $"Waiting for {Url(port)} ({watch.Elapsed.TotalSeconds:0} s of {request.Timeout.TotalSeconds:0} s)", percent);
                    ct.WaitHandle.WaitOne(PollInterval);
                }
            }
            finally
            {
                log.Progress(activity, null, 100);
            }
        }

        private static string Url(int port) => "http://localhost:" + port.ToString(CultureInfo.InvariantCulture);

        private static string FirstLine(string text) => (text ?? string.Empty).Split('\n')[0].Trim();

        private static DateTimeOffset? ParseTime(string text) =>
            DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) && t.Year > 1 ? t : (DateTimeOffset?)null;
    }
}
