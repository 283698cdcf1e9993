using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using Docker.DotNet.Models;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Previews
{
    /// <summary>Previews as containers of one Docker-API engine (dockerd or podman), labelled as DyadPorts' and as this state's.</summary>
    internal sealed class ContainerPreviewHost : IPreviewHost
    {
        private const int LogLines = 20;
        private readonly ContainerEngine _engine;

        public ContainerPreviewHost(ContainerEngine engine, EngineKind kind)
        {
            _engine = engine;
            Kind = kind;
        }

        public EngineKind Kind { get; }

        public Preview ReuseOrClear(string appId, StateDocument state, EngineSnapshot snapshot, IOperationLog log, CancellationToken ct, out bool cleared)
        {
            cleared = false;
            var name = AppIds.ContainerName(appId);
            var sameName = snapshot.Containers.FirstOrDefault(c => c.Name == name);
            if (sameName != null && !Ownership.IsAppsOfAnyClaim(sameName, appId, state)) throw NameInUse(name, sameName);

            // 1. Running already: return it, with the port the engine reports. A stale claimant (an earlier start's, whose
            // claim was lost) bears the app's name and serves it: the start, which holds the app's lock, adopts it under the
            // current claim rather than leave it untracked (the record then names it).
            var running = snapshot.ForAppAnyClaim(appId, state).FirstOrDefault(c => c.IsRunning && c.TcpHostPorts.Any());
            if (running != null)
            {
                if (state.Allocations.TryGetValue(appId, out var record) && Ownership.IsStaleClaimant(running, record))
                {
                    log.Verbose($"App {appId}: {running.Describe()} is a stale claimant (claim {running.ClaimRevision}, the app's claim is {record.ClaimRevision}); this start adopts it.");
                }
                var inspected = _engine.InspectOrNull(running.Id, ct);
                if (inspected?.State?.Health?.Status != "unhealthy")
                {
                    return Preview(appId, running.TcpHostPorts[0], running.Id, running.Name, running.Image, inspected);
                }
                log.Verbose($"App {appId}: {running.Describe()} is unhealthy; replacing it.");
            }

            // 2. Exists but not running (or unhealthy): remove the app's own, of this state only.
            foreach (var old in snapshot.ForAppAnyClaim(appId, state))
            {
                log.Verbose($"App {appId}: removing {old.Describe()}, which still reserves port(s) {string.Join(", ", old.TcpHostPorts)}.");
                _engine.Remove(old.Id, ct);
                cleared = true;
            }
            return null;
        }

        public void Prepare(PreviewRequest request, IOperationLog log, CancellationToken ct)
        {
            var image = request.Image;
            if (_engine.ImageExists(image, ct)) return;
            var activity = $"Pulling {image}";
            log.Verbose($"Image {image} is not present in {Kind}; pulling it.");
            try
            {
                _engine.Pull(image, m =>
                {
                    var current = m.Progress?.Current ?? 0;
                    var total = m.Progress?.Total ?? 0;
                    log.Progress(activity, $"{m.ID} {m.Status}".Trim(), total > 0 ? (int)(current * 100 / total) : -1);
                }, ct);
            }
            catch (EngineRefusedException e)
            {
                throw ImageNotFound(image, EngineRefusedException.FirstLine(e.EngineMessage), e);
            }
            finally
            {
                log.Progress(activity, null, 100);
            }
            if (!_engine.ImageExists(image, ct)) throw ImageNotFound(image, "the pull finished but the image is still missing", null);
        }

        public LaunchedPreview Launch(PreviewRequest request, int port, string stateId, IOperationLog log, CancellationToken ct)
        {
            var name = AppIds.ContainerName(request.AppId);
            var launched = new LaunchedPreview { AppId = request.AppId, Port = port, ContainerName = name, Image = request.Image };
            try
            {
                launched.ContainerId = _engine.Create(ContainerParameters(request, name, request.Image, port, stateId), ct);
                _engine.Start(launched.ContainerId, ct);
                return launched;
            }
            catch (EngineRefusedException e) when (e.IsPortConflict)
            {
                Discard(launched, stateId, log);
                throw new PortTakenException(port, EngineRefusedException.FirstLine(e.EngineMessage));
            }
            catch (EngineRefusedException e) when (launched.ContainerId == null && e.IsNameConflict)
            {
                // Someone outside this app's start lock created the name since the snapshot.
                using var bounded = new CancellationTokenSource(CleanUpBound);
                ContainerSummary holder;
                try
                {
                    holder = _engine.FindByName(name, bounded.Token);
                }
                catch (Exception lookup) when ((lookup is OperationCanceledException && bounded.IsCancellationRequested && !ct.IsCancellationRequested) ||
                                               (lookup is DyadPortsException failed && !failed.IsTerminating)) // an engine gone is still EngineUnreachable
                {
                    // The refusal is the fact; only who holds the name is unknown.
                    throw new DyadPortsException(ErrorIds.ContainerNameInUse, FailureCategory.ResourceExists, name,
                        $"The container name '{name}' is taken, and the engine did not say by what within {CleanUpBound.TotalSeconds:0} s. DyadPorts will neither use nor remove it. " +
                        "Remove or rename it yourself, or use another AppId.", e);
                }
                throw NameInUse(name, holder, e);
            }
            catch (EngineRefusedException e)
            {
                Discard(launched, stateId, log);
                throw new DyadPortsException(ErrorIds.ContainerStartFailed, FailureCategory.InvalidOperation, request.AppId,
                    $"The engine could not start {name} on port {port}: {EngineRefusedException.FirstLine(e.EngineMessage)}", e);
            }
            catch (Exception)
            {
                // Cancelled or unreachable mid-call: the engine may have created it anyway; Discard finds it by name and label.
                Discard(launched, stateId, log);
                throw;
            }
        }

        public bool StillRunning(LaunchedPreview preview, CancellationToken ct) => _engine.InspectOrNull(preview.ContainerId, ct)?.State?.Running == true;

        public string Logs(LaunchedPreview preview, CancellationToken ct) => _engine.LogsTail(preview.ContainerId, LogLines, ct);

        /// <summary>How long clean-up after a failed or cancelled start may take: bounded, not cancellable, so Ctrl+C still cleans up.</summary>
        private static readonly TimeSpan CleanUpBound = TimeSpan.FromSeconds(30);

        public void Discard(LaunchedPreview preview, string stateId, IOperationLog log)
        {
            using var bounded = new CancellationTokenSource(CleanUpBound);
            try
            {
                var id = preview.ContainerId;
                if (id == null)
                {
                    // A create that did not return may still have made the container: only ours, by name and label.
                    var found = _engine.FindByName(preview.ContainerName, bounded.Token);
                    if (found != null && found.AppId == preview.AppId && found.StateId == stateId) id = found.Id;
                }
                if (id == null) return;
                log.Verbose($"App {preview.AppId}: removing container {preview.ContainerName} ({Short(id)}), which this start created.");
                _engine.Remove(id, bounded.Token);
            }
            catch (DyadPortsException e)
            {
                log.Warning($"App {preview.AppId}: could not remove container {preview.ContainerName} after the failed start: {e.Message} Remove it with Stop-DyadPreview {preview.AppId} -Remove.");
            }
            catch (OperationCanceledException) when (bounded.IsCancellationRequested)
            {
                log.Warning($"App {preview.AppId}: the engine did not remove container {preview.ContainerName} within {CleanUpBound.TotalSeconds:0} s after the failed start. Remove it with Stop-DyadPreview {preview.AppId} -Remove.");
            }
        }

        public Preview Describe(LaunchedPreview preview, CancellationToken ct) =>
            Preview(preview.AppId, preview.Port, preview.ContainerId, preview.ContainerName, preview.Image, _engine.InspectOrNull(preview.ContainerId, ct));

        private Preview Preview(string appId, int port, string id, string name, string image, ContainerInspectResponse inspected) => new Preview
        {
            AppId = appId,
            Port = port,
            ContainerName = name,
            ContainerId = id,
            Image = image,
            Engine = Kind,
            EngineEndpoint = _engine.Endpoint,
            State = inspected?.State?.Status ?? "running",
            StartedAt = ParseTime(inspected?.State?.StartedAt),
        };

        public Preview Stop(string appId, AllocationRecord record, StateDocument state, EngineSnapshot snapshot, bool remove, IOperationLog log, CancellationToken ct)
        {
            var ours = snapshot.ForApp(appId, state).ToList();
            if (ours.Count == 0) return null;
            var result = new Preview { AppId = appId, Port = record?.Port ?? (ours[0].TcpHostPorts is { Count: > 0 } ports ? ports[0] : 0), Engine = Kind, EngineEndpoint = _engine.Endpoint, State = "stopped" };
            foreach (var container in ours)
            {
                result.ContainerId = container.Id;
                result.ContainerName = container.Name;
                result.Image = container.Image;
                if (remove)
                {
                    log.Verbose($"App {appId}: removing {container.Describe()}.");
                    _engine.Remove(container.Id, ct);
                    result.State = "removed";
                }
                else if (container.IsRunning)
                {
                    log.Verbose($"App {appId}: stopping {container.Describe()}.");
                    _engine.Stop(container.Id, TimeSpan.FromSeconds(5), ct);
                    result.State = "exited";
                }
            }
            return result;
        }

        public ICollection<string> Reclaim(IReadOnlyList<(int Port, ContainerSummary Container)> orphans, IOperationLog log, CancellationToken ct)
        {
            var gone = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (port, container) in orphans)
            {
                if (gone.Contains(container.Id)) continue;
                log.Verbose($"AUTO_KILL_PORT: port {port} is held by orphaned {container.Describe()} (app {container.AppId ?? "?"} has no allocation on it); removing it.");
                try
                {
                    _engine.Remove(container.Id, ct, force: false);
                    gone.Add(container.Id);
                }
                catch (EngineRefusedException e)
                {
                    log.Warning($"AUTO_KILL_PORT: could not remove {container.Describe()}: {e.Message} Port {port} is passed over.");
                }
            }
            return gone;
        }

        internal static CreateContainerParameters ContainerParameters(PreviewRequest request, string name, string image, int port, string stateId)
        {
            var portKey = port.ToString(CultureInfo.InvariantCulture) + "/tcp";
            var portText = port.ToString(CultureInfo.InvariantCulture);
            var parameters = new CreateContainerParameters
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
                    [ContainerSummary.StateLabel] = stateId,
                },
                HostConfig = new HostConfig
                {
                    PortBindings = new Dictionary<string, IList<PortBinding>> { [portKey] = new List<PortBinding> { new PortBinding { HostPort = portText } } },
                    // A remote engine mounts a path on its own host, which this machine cannot resolve: it is passed as given.
                    Binds = new List<string> { (AppFolder.IsAbsoluteOnAnyHost(request.Path) ? request.Path : Path.GetFullPath(request.Path)) + ":/app" },
                    NanoCPUs = request.Limits.NanoCpus,
                    Memory = request.Limits.MemoryBytes,
                },
            };
            // The claim it runs under, which tells it from a stale claimant later (Ownership.IsStaleClaimant).
            if (request.ClaimRevision is long claim) parameters.Labels[ContainerSummary.ClaimLabel] = claim.ToString(CultureInfo.InvariantCulture);
            return parameters;
        }

        private static DyadPortsException NameInUse(string name, ContainerSummary holder, Exception inner = null)
        {
            var whose = holder == null ? "a container DyadPorts cannot see any more"
                : !holder.IsManaged ? $"a container DyadPorts did not create (no {ContainerSummary.ManagedLabel} label, {holder.State})"
                : $"a DyadPorts container of another state ({ContainerSummary.StateLabel}={holder.StateId ?? "none"}, {holder.State}), for example another user's or another DYAD_PORTS_STATE's";
            return new DyadPortsException(ErrorIds.ContainerNameInUse, FailureCategory.ResourceExists, name,
                $"The container name '{name}' is taken by {whose}. DyadPorts will neither use nor remove it. Remove or rename it yourself, or use another AppId.", inner);
        }

        private DyadPortsException ImageNotFound(string image, string why, Exception inner)
        {
            var tool = Kind == EngineKind.Podman ? "podman" : "docker";
            return new DyadPortsException(ErrorIds.ImageNotFound, FailureCategory.ObjectNotFound, image,
                $"The image '{image}' is not in the {Kind} engine and could not be pulled: {why}. " +
                $"Pull it where a registry is reachable, build it ('{tool} build -t {image} .'), or import one ('{tool} load -i image.tar'), then pass it with -Image or DYAD_PREVIEW_IMAGE.", inner);
        }

        private static string Short(string id) => id.Length > 12 ? id.Substring(0, 12) : id;

        internal static DateTimeOffset? ParseTime(string text) =>
            DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) && t.Year > 1 ? t : (DateTimeOffset?)null;
    }
}
