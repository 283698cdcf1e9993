using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet;
using Docker.DotNet.Models;
using DyadPorts.Core.Diagnostics;

namespace DyadPorts.Core.Engines
{
    /// <summary>
    /// One Docker-API endpoint (dockerd or podman's compat service) through Docker.DotNet. Never a shell.
    /// One instance per endpoint is reused for the life of the session, by every runspace of the process.
    /// <see cref="Reconnect"/> drops the underlying Docker.DotNet client for a fresh one on the next call; a call
    /// already under way on the old client finishes on it, and the old client is disposed when its last call ends.
    /// The client is made on the first call, so unloadable TLS files fail that call (EngineUnreachable), not the constructor.
    /// </summary>
    public sealed class ContainerEngine : IDisposable
    {
        /// <summary>How long a ping may take before the engine counts as silent.</summary>
        public static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(3);
        private readonly object _gate = new object();
        private ClientLease _current;
        private bool _disposed;
        // A container's port bindings never change after create, so one inspect per stopped container is enough.
        private readonly ConcurrentDictionary<string, IReadOnlyList<PublishedPort>> _configuredPorts = new ConcurrentDictionary<string, IReadOnlyList<PublishedPort>>();
        private EngineKind _kind;

        public ContainerEngine(string endpoint, EngineKind kind, EngineTls tls = null)
        {
            Endpoint = endpoint;
            Tls = tls;
            _kind = kind;
        }

        public string Endpoint { get; }
        /// <summary>The TLS files this client uses; null for none.</summary>
        public EngineTls Tls { get; }

        /// <summary>
        /// A container this client created, started, stopped (<c>Removed</c> false) or removed (<c>Removed</c> true): the
        /// session's engine view hears of the process's own writes at once, not only when the engine's events arrive.
        /// </summary>
        public event Action<string, bool> ContainerChanged;

        /// <summary>API calls made through this client so far: what tests and benchmarks count per operation.</summary>
        public long Calls => Interlocked.Read(ref _calls);
        private long _calls;

        /// <summary>The kind as far as known without asking the engine: Auto until <see cref="Kind"/> has asked it.</summary>
        public EngineKind KnownKind => _kind;

        /// <summary>Docker or Podman; asks the engine once when the endpoint alone does not say.</summary>
        public EngineKind Kind(CancellationToken cancellationToken)
        {
            if (_kind == EngineKind.Auto)
            {
                Docker.DotNet.Models.VersionResponse version;
                try
                {
                    version = Call("report its version", (c, ct) => c.System.GetVersionAsync(ct), cancellationToken);
                }
                catch (EngineRefusedException e)
                {
                    throw VersionRefused(e);
                }
                var isPodman = version.Components?.Any(c => c.Name != null && c.Name.Contains("Podman", StringComparison.OrdinalIgnoreCase)) == true;
                _kind = isPodman ? EngineKind.Podman : EngineKind.Docker;
            }
            return _kind;
        }

        public bool Answers(CancellationToken cancellationToken)
        {
            try
            {
                Ping(cancellationToken);
                return true;
            }
            catch (DyadPortsException)
            {
                return false; // unreachable, or it answered with an error: either way not an engine to use
            }
        }

        public void Ping(CancellationToken cancellationToken) => PingAsync(cancellationToken).GetAwaiter().GetResult();

        /// <summary>As <see cref="Ping"/>, without holding a thread while the engine answers.</summary>
        public async Task PingAsync(CancellationToken cancellationToken)
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(PingTimeout);
                await CallAsync("answer a ping", async (c, ct) => { await c.System.PingAsync(ct).ConfigureAwait(false); return true; }, timeout.Token, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>The engine's own time as its <c>GET /info</c> says it (<c>SystemTime</c>, RFC 3339), bounded like a ping (<see cref="EngineClock"/>).</summary>
        public async Task<string> SystemTimeAsync(CancellationToken cancellationToken)
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(PingTimeout);
                var info = await CallAsync("say its time", (c, ct) => c.System.GetSystemInfoAsync(ct), timeout.Token, cancellationToken).ConfigureAwait(false);
                return info?.SystemTime;
            }
        }

        /// <summary>
        /// Every container, running or not, with the host ports it holds: one list call, plus one inspect
        /// per stopped container the session has not seen (docker lists no ports for those).
        /// </summary>
        public EngineSnapshot Snapshot(CancellationToken cancellationToken) => Snapshot(null, null, cancellationToken);

        /// <summary>
        /// As <see cref="Snapshot(CancellationToken)"/>, with <paramref name="configuredPorts"/> as the second level after
        /// this client's memory: a stopped container neither has seen is inspected, and the file is saved when that added an
        /// entry or the list no longer has one it stored. The file is read only when the memory misses, so a warm session
        /// that has seen every container does not touch it. Null for none.
        /// </summary>
        public EngineSnapshot Snapshot(ConfiguredPortsCache configuredPorts, IOperationLog log, CancellationToken cancellationToken)
        {
            try
            {
                return Listed(configuredPorts, log, cancellationToken);
            }
            catch (EngineRefusedException e)
            {
                throw ListRefused(e); // the list, or a stopped container's inspect, which its ports come from
            }
        }

        private EngineSnapshot Listed(ConfiguredPortsCache configuredPorts, IOperationLog log, CancellationToken cancellationToken)
        {
            var listed = Call("list its containers", (c, ct) => c.Containers.ListContainersAsync(new ContainersListParameters { All = true }, ct), cancellationToken);
            var live = new HashSet<string>(listed.Select(c => c.ID), StringComparer.Ordinal);
            foreach (var gone in _configuredPorts.Keys.Where(id => !live.Contains(id)).ToList()) _configuredPorts.TryRemove(gone, out _);

            IReadOnlyDictionary<string, IReadOnlyList<PublishedPort>> stored = null;
            var unknown = new List<string>();
            IReadOnlyList<PublishedPort> Stored(string id)
            {
                if (configuredPorts != null)
                {
                    stored ??= configuredPorts.Load(log);
                    if (stored.TryGetValue(id, out var known)) return known;
                }
                unknown.Add(id);
                return null;
            }

            // First what the list, this client's memory and the file say; then one inspect of each container none of them
            // knows, all together (InspectsAtOnce at a time). Left out when no inspect finds it (ListedButNotFound):
            // removed meanwhile, or not yet inspectable.
            var summaries = listed.Select(c => Summarize(c, Stored)).ToArray();
            if (unknown.Count > 0)
            {
                var inspected = ConfiguredPorts(unknown, cancellationToken);
                for (var i = 0; i < summaries.Length; i++)
                {
                    summaries[i] ??= Summarize(listed[i], id => inspected.TryGetValue(id, out var ports) ? ports : null);
                }
            }
            var containers = summaries.Where(s => s != null).ToList();
            if (stored != null)
            {
                var kept = ConfiguredPortsCache.Kept(stored, _configuredPorts, live, out var changed);
                if (changed) configuredPorts.Save(kept, log);
            }
            return new EngineSnapshot(containers);
        }

        /// <summary>
        /// A refused list dooms every input of the command (each would be refused the same way, and nothing can be checked
        /// without it): a socket proxy that forbids listing containers (403), or an engine failing at it. So does a refused
        /// inspect of a stopped container, whose ports the list does not show.
        /// </summary>
        private DyadPortsException ListRefused(EngineRefusedException e) => DoomsEveryInput(ErrorIds.EngineListRefused, e,
            "Without its containers (the list, and an inspect of each stopped one for its ports) no port can be checked against them, " +
            "so nothing was done. A socket proxy in front of the engine (docker-socket-proxy, for one) must allow CONTAINERS, and POST for previews.");

        /// <summary>
        /// A refused /version dooms every input too: the command's engine is of a kind the rules only inferred (a default
        /// socket, DOCKER_HOST, an -EngineEndpoint without -Engine), and without its answer no input can be served. Naming
        /// the family (-Engine Docker or Podman) does without the question.
        /// </summary>
        private DyadPortsException VersionRefused(EngineRefusedException e) => DoomsEveryInput(ErrorIds.EngineVersionRefused, e,
            "Which engine answers there (docker or podman) is read from its version, so nothing was done. " +
            "Name the engine with -Engine Docker or -Engine Podman, or let a socket proxy in front of it allow VERSION.");

        /// <summary>A refusal of the engine's as a terminating error: PermissionDenied for HTTP 401/403, the endpoint as target.</summary>
        private DyadPortsException DoomsEveryInput(string errorId, EngineRefusedException e, string consequence) =>
            new DyadPortsException(errorId,
                e.StatusCode == HttpStatusCode.Forbidden || e.StatusCode == HttpStatusCode.Unauthorized ? FailureCategory.PermissionDenied : FailureCategory.ResourceUnavailable,
                Endpoint, $"{e.Message} {consequence}", e);

        /// <summary>
        /// What a listed container that is not running is summarized from: its list entry, and its configured bindings
        /// (this client's memory, else <paramref name="configured"/>). When no inspect finds the container
        /// (<see cref="ListedButNotFound"/>) nothing is remembered of it, so the next list asks again, and an engine view
        /// learns of it from its create event, which dockerd sends only once the container can be inspected; the summary
        /// is then null, or without bindings with <paramref name="keepUnfound"/>.
        /// </summary>
        private ContainerSummary Summarize(ContainerListResponse c, Func<string, IReadOnlyList<PublishedPort>> configured, bool keepUnfound = false)
        {
            var summary = new ContainerSummary
            {
                Id = c.ID,
                Name = c.Names?.FirstOrDefault()?.TrimStart('/') ?? c.ID,
                State = c.State,
                Image = c.Image,
                Labels = c.Labels != null ? new Dictionary<string, string>(c.Labels) : new Dictionary<string, string>(),
                Created = c.Created == default ? (DateTimeOffset?)null : new DateTimeOffset(DateTime.SpecifyKind(c.Created, DateTimeKind.Utc)),
            };
            var ports = PortBindingParser.FromList(c.Ports);
            if (ports.Count == 0 && !summary.IsRunning && !_configuredPorts.TryGetValue(c.ID, out ports))
            {
                ports = configured(c.ID);
                if (ports != null) _configuredPorts[c.ID] = ports;
                else if (keepUnfound) ports = Array.Empty<PublishedPort>();
                else return null;
            }
            summary.Ports = ports;
            return summary;
        }

        /// <summary>
        /// How long, after each "no such container", a list's inspect of a container it showed tries again: dockerd lists a
        /// container it is still creating (its record is written, moby's daemon/container.go setHostConfig, before the
        /// container is registered, daemon/create.go) and answers an inspect of it 404 for a few milliseconds. A view's list
        /// that took that answer for "no ports" kept the container without its bindings, and its create event, for a
        /// container the view held already, changed nothing: found by a full CI run, where a port it bound was handed out.
        /// </summary>
        internal static readonly TimeSpan[] ListedButNotFound = { TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(40), TimeSpan.FromMilliseconds(80) };

        /// <summary>
        /// The configured bindings of listed containers, from one inspect each, at most <see cref="InspectsAtOnce"/> at a
        /// time when there are several; each found is remembered at once. Those no inspect found are asked again together after each wait of
        /// <see cref="ListedButNotFound"/>, so a list waits at most their sum (150 ms) however many it could not find; a
        /// container none finds is not in the answer. An inspect that fails (refused, unreachable) stops the others, and
        /// its failure is thrown (of several, the first in the order of <paramref name="ids"/>).
        /// </summary>
        private Dictionary<string, IReadOnlyList<PublishedPort>> ConfiguredPorts(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
        {
            var found = new ConcurrentDictionary<string, IReadOnlyList<PublishedPort>>(StringComparer.Ordinal);
            var queued = ids.Count > 1; // one alone (a lookup by name, a list with one new container) is not one of many
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            async Task Inspect(string id)
            {
                try
                {
                    var inspected = await InspectOrNullAsync(id, queued, stop.Token).ConfigureAwait(false);
                    if (inspected != null) _configuredPorts[id] = found[id] = PortBindingParser.FromPortBindings(inspected.HostConfig?.PortBindings);
                }
                catch
                {
                    await stop.CancelAsync().ConfigureAwait(false);
                    throw;
                }
            }

            var left = ids;
            for (var round = 0; ; round++)
            {
                Task.WhenAll(left.Select(Inspect)).GetAwaiter().GetResult();
                left = left.Where(id => !found.ContainsKey(id)).ToList();
                if (left.Count == 0 || round == ListedButNotFound.Length) return new Dictionary<string, IReadOnlyList<PublishedPort>>(found, StringComparer.Ordinal);
                if (cancellationToken.WaitHandle.WaitOne(ListedButNotFound[round])) cancellationToken.ThrowIfCancellationRequested();
            }
        }

        public ContainerInspectResponse InspectOrNull(string id, CancellationToken cancellationToken) =>
            InspectOrNullAsync(id, queued: false, cancellationToken).GetAwaiter().GetResult();

        /// <summary>
        /// How many of this client's queued inspects run at once, at most: a list's of the containers it has not seen, and
        /// an engine view's for the events it follows. A single inspect a command asks for itself (a preview's, a view's
        /// read of a container the process changed) is not queued behind them.
        /// </summary>
        public const int InspectsAtOnce = 8;
        // Each inspect is a connection of its own: a one-shot list of hundreds of containers it has not seen, or a view's
        // reconnection that replays a busy minute, would otherwise open dozens at once (a socket proxy's backlog or
        // connection limit then refuses some). An inspect waiting for a slot counts as under way.
#pragma warning disable CA2213 // no wait handle is ever taken: nothing to release, and a call may still hold a slot after Dispose
        private readonly SemaphoreSlim _inspectSlots = new SemaphoreSlim(InspectsAtOnce);
#pragma warning restore CA2213

        /// <param name="queued">Whether the inspect takes one of the <see cref="InspectsAtOnce"/> slots (one of many), or runs at once (a command's own).</param>
        private async Task<ContainerInspectResponse> InspectOrNullAsync(string id, bool queued, CancellationToken cancellationToken)
        {
            if (queued) await _inspectSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await CallAsync($"inspect container {id}", (c, ct) => c.Containers.InspectContainerAsync(id, ct), cancellationToken).ConfigureAwait(false);
            }
            catch (EngineRefusedException e) when (e.IsNoSuchContainer)
            {
                return null;
            }
            finally
            {
                if (queued) _inspectSlots.Release();
            }
        }

        /// <summary>
        /// One container as a list would show it, from one inspect: its actual bindings whenever it has any (running, and
        /// paused too, which keeps the host port the engine chose for a binding that named none), else the configured
        /// ones (HostConfig.PortBindings). Null when the engine has no such container.
        /// </summary>
        public ContainerSummary Describe(string id, CancellationToken cancellationToken) => DescribeAsync(id, queued: false, cancellationToken).GetAwaiter().GetResult();

        /// <summary>As <see cref="Describe"/>, without holding a thread while the engine answers.</summary>
        /// <param name="queued">Whether the inspect waits for one of the <see cref="InspectsAtOnce"/> slots: true for one of many (an engine view's events).</param>
        public async Task<ContainerSummary> DescribeAsync(string id, bool queued, CancellationToken cancellationToken)
        {
            var c = await InspectOrNullAsync(id, queued, cancellationToken).ConfigureAwait(false);
            if (c == null) return null;
            var summary = new ContainerSummary
            {
                Id = c.ID,
                Name = c.Name?.TrimStart('/') ?? c.ID,
                State = c.State?.Status,
                Image = c.Config?.Image ?? c.Image,
                Labels = c.Config?.Labels != null ? new Dictionary<string, string>(c.Config.Labels) : new Dictionary<string, string>(),
                Created = c.Created == default ? (DateTimeOffset?)null : new DateTimeOffset(DateTime.SpecifyKind(c.Created, DateTimeKind.Utc)),
            };
            var ports = PortBindingParser.FromPortBindings(c.NetworkSettings?.Ports);
            var configured = PortBindingParser.FromPortBindings(c.HostConfig?.PortBindings);
            // A container's configured bindings never change: the next list (a view's relist, after a reconnect or a burst
            // past what a catch-up can prove) takes them from here instead of inspecting the container again.
            _configuredPorts[c.ID] = configured;
            summary.Ports = ports.Count > 0 ? ports : configured;
            return summary;
        }

        /// <summary>
        /// Follows the engine's container events from <paramref name="since"/> (best effort: engines keep only so many)
        /// until the stream ends, fails, is cancelled, or <see cref="Reconnect"/> is called; each event goes to
        /// <paramref name="onEvent"/> on the stream's thread. One call, on a connection of its own.
        /// </summary>
        /// <param name="until">Null to follow until the stream ends; else the engine ends the stream at that time (a catch-up).</param>
        public async Task FollowEvents(DateTimeOffset since, Action<Message> onEvent, CancellationToken cancellationToken, DateTimeOffset? until = null)
        {
            Interlocked.Increment(ref _calls);
            CancellationTokenSource linked;
            lock (_gate)
            {
                if (_disposed) throw new ObjectDisposedException(nameof(ContainerEngine), $"The client for '{Endpoint}' was disposed.");
                _streams = _streams ?? new CancellationTokenSource();
                linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _streams.Token);
            }
            using var _ = linked;
            var credentials = Tls == null ? null : EngineTlsCredentials.Create(Endpoint, Tls);
            // A client of its own: a stream lives as long as the session, and a Reconnect must be able to end it.
            using var client = new DockerClientConfiguration(new Uri(Endpoint), credentials, Timeout.InfiniteTimeSpan).CreateClient();
            var parameters = new ContainerEventsParameters
            {
                Since = since.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
                Filters = new Dictionary<string, IDictionary<string, bool>> { ["type"] = new Dictionary<string, bool> { ["container"] = true } },
            };
            if (until is DateTimeOffset end)
            {
                var ms = end.ToUnixTimeMilliseconds();
                parameters.Until = (ms / 1000).ToString(System.Globalization.CultureInfo.InvariantCulture) + "." + (ms % 1000).ToString("D3", System.Globalization.CultureInfo.InvariantCulture);
            }
            await client.System.MonitorEventsAsync(parameters, new Reporter<Message>(onEvent), linked.Token).ConfigureAwait(false);
        }

        private CancellationTokenSource _streams;

        /// <summary>The container with exactly this name, running or not; null when there is none.</summary>
        public ContainerSummary FindByName(string name, CancellationToken cancellationToken)
        {
            var filters = new Dictionary<string, IDictionary<string, bool>> { ["name"] = new Dictionary<string, bool> { ["^/?" + name + "$"] = true } };
            var listed = Call($"find container {name}", (c, ct) => c.Containers.ListContainersAsync(new ContainersListParameters { All = true, Filters = filters }, ct), cancellationToken);
            var match = listed.FirstOrDefault(c => c.Names != null && c.Names.Any(n => n.TrimStart('/') == name));
            // A container no inspect finds still holds the name (a create under way, which a failed start's clean-up
            // removes): its summary, without bindings, none remembered.
            return match == null ? null : Summarize(match, id => ConfiguredPorts(new[] { id }, cancellationToken).GetValueOrDefault(id), keepUnfound: true);
        }

        /// <summary>
        /// Bytes a container has received and transmitted, from one one-shot stats sample (without OneShot dockerd
        /// waits about 2 s per container). Podman before 4.4 swaps rx and tx in its compat stats; that is corrected here.
        /// </summary>
        /// <returns>Null when the engine reports no network counters for the container: no traffic is known, none is assumed.</returns>
        public (long Received, long Transmitted)? NetworkBytes(string id, CancellationToken cancellationToken)
        {
            ContainerStatsResponse stats = null;
            Call($"report the stats of container {id}", async (c, ct) =>
            {
                await c.Containers.GetContainerStatsAsync(id, new ContainerStatsParameters { Stream = false, OneShot = true }, new Reporter<ContainerStatsResponse>(s => stats = s), ct).ConfigureAwait(false);
                return true;
            }, cancellationToken);
            var networks = stats?.Networks?.Values;
            if (networks == null || networks.Count == 0) return null;
            long rx = 0, tx = 0;
            foreach (var n in networks) { rx += (long)n.RxBytes; tx += (long)n.TxBytes; }
            return SwapsNetworkCounters(cancellationToken) ? (tx, rx) : (rx, tx);
        }

        private bool? _swapsNetworkCounters;

        /// <summary>podman's compat stats reported rx as tx and tx as rx until 4.4.0 (containers/podman#17257).</summary>
        internal bool SwapsNetworkCounters(CancellationToken cancellationToken)
        {
            if (_swapsNetworkCounters is bool known) return known;
            var version = Call("report its version", (c, ct) => c.System.GetVersionAsync(ct), cancellationToken);
            var podman = version.Components?.FirstOrDefault(c => c.Name != null && c.Name.Contains("Podman", StringComparison.OrdinalIgnoreCase));
            var swaps = podman != null && PodmanSwapsNetworkCounters(podman.Version ?? version.Version);
            _swapsNetworkCounters = swaps;
            return swaps;
        }

        internal static bool PodmanSwapsNetworkCounters(string podmanVersion)
        {
            var text = (podmanVersion ?? string.Empty).Split('-', '+', ' ')[0];
            return System.Version.TryParse(text.Split('.').Length == 2 ? text + ".0" : text, out var v) && v < new System.Version(4, 4, 0);
        }

        public bool ImageExists(string image, CancellationToken cancellationToken)
        {
            try
            {
                Call($"inspect image {image}", (c, ct) => c.Images.InspectImageAsync(image, ct), cancellationToken);
                return true;
            }
            catch (EngineRefusedException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                return false;
            }
        }

        /// <summary>
        /// Pulls like docker run does when the image is missing; throws <see cref="EngineRefusedException"/> on failure.
        /// Progress is reported on the calling thread, so a cmdlet may forward it to WriteProgress.
        /// </summary>
        public void Pull(string image, Action<JSONMessage> progress, CancellationToken cancellationToken)
        {
            SplitImage(image, out var name, out var tag);
            string failure = null;
            Call($"pull {image}", async (c, ct) =>
            {
                // Both are disposed on every way out; the pull is stopped and awaited first when this thread leaves early
                // (cancelled, or the progress callback threw), so nothing adds to a disposed collection.
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
                using var messages = new BlockingCollection<JSONMessage>();
                var pull = Task.Run(async () =>
                {
                    try
                    {
                        await c.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = name, Tag = tag }, null, new Reporter<JSONMessage>(messages.Add), stop.Token).ConfigureAwait(false);
                    }
                    finally
                    {
                        messages.CompleteAdding();
                    }
                }, stop.Token);
                var drained = false;
                try
                {
                    // Still on the calling thread: nothing was awaited yet, so progress reaches WriteProgress.
                    foreach (var message in messages.GetConsumingEnumerable(ct))
                    {
                        if (!string.IsNullOrEmpty(message.ErrorMessage)) failure = message.ErrorMessage;
                        progress?.Invoke(message);
                    }
                    drained = true;
                }
                finally
                {
                    if (!drained)
                    {
                        stop.Cancel();
                        try { pull.Wait((int)TimeSpan.FromSeconds(30).TotalMilliseconds, CancellationToken.None); }
                        catch (Exception e) when (e is AggregateException || e is OperationCanceledException) { /* the reason this thread left is the error that counts */ }
                    }
                }
                await pull.ConfigureAwait(false);
                return true;
            }, cancellationToken);
            if (failure != null) throw new EngineRefusedException(Endpoint, $"pull {image}", HttpStatusCode.NotFound, failure, null);
        }

        public string Create(CreateContainerParameters parameters, CancellationToken cancellationToken)
        {
            var id = Call($"create container {parameters.Name}", (c, ct) => c.Containers.CreateContainerAsync(parameters, ct), cancellationToken).ID;
            ContainerChanged?.Invoke(id, false);
            return id;
        }

        public void Start(string id, CancellationToken cancellationToken)
        {
            try
            {
                Call($"start container {id}", (c, ct) => c.Containers.StartContainerAsync(id, new ContainerStartParameters(), ct), cancellationToken);
            }
            finally
            {
                ContainerChanged?.Invoke(id, false); // a refused start may still have changed it
            }
        }

        public void Stop(string id, TimeSpan grace, CancellationToken cancellationToken)
        {
            try
            {
                Call($"stop container {id}", (c, ct) => c.Containers.StopContainerAsync(id, new ContainerStopParameters { WaitBeforeKillSeconds = (uint)grace.TotalSeconds }, ct), cancellationToken);
            }
            finally
            {
                ContainerChanged?.Invoke(id, false);
            }
        }

        /// <summary>
        /// Removes a container; gone already counts as done. <paramref name="force"/> false lets the engine refuse a
        /// container that runs (HTTP 409): AUTO_KILL_PORT judged it stopped on a snapshot, and a started one is not an orphan.
        /// </summary>
        public void Remove(string id, CancellationToken cancellationToken, bool force = true)
        {
            try
            {
                Call($"remove container {id}", async (c, ct) => { await c.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = force, RemoveVolumes = true }, ct).ConfigureAwait(false); return true; }, cancellationToken);
            }
            catch (EngineRefusedException e) when (e.IsNoSuchContainer)
            {
                // gone already
            }
            catch (DyadPortsException)
            {
                ContainerChanged?.Invoke(id, false); // not removed, maybe changed: the view looks again
                throw;
            }
            _configuredPorts.TryRemove(id, out _);
            ContainerChanged?.Invoke(id, true);
        }

        public string LogsTail(string id, int lines, CancellationToken cancellationToken)
        {
            try
            {
                return Call($"give the logs of container {id}", async (c, ct) =>
                {
                    using (var stream = await c.Containers.GetContainerLogsAsync(id, false, new ContainerLogsParameters { ShowStdout = true, ShowStderr = true, Tail = lines.ToString(System.Globalization.CultureInfo.InvariantCulture) }, ct).ConfigureAwait(false))
                    {
                        var (stdout, stderr) = await stream.ReadOutputToEndAsync(ct).ConfigureAwait(false);
                        return (stdout + stderr).TrimEnd();
                    }
                }, cancellationToken);
            }
            catch (DyadPortsException e)
            {
                return $"(logs unavailable: {e.Message})";
            }
        }

        /// <summary>
        /// Runs one API call to completion on the calling thread. Nothing from Docker.DotNet leaves here:
        /// failures to reach the engine become EngineUnreachable naming the endpoint, and the engine's own
        /// refusals become <see cref="EngineRefusedException"/> with its status and words, for callers to read.
        /// </summary>
        /// <param name="userToken">The caller's own token when <paramref name="token"/> also carries a timeout.</param>
        private T Call<T>(string operation, Func<DockerClient, CancellationToken, Task<T>> call, CancellationToken token, CancellationToken? userToken = null)
        {
            Interlocked.Increment(ref _calls);
            ClientLease lease = null;
            try
            {
                lease = Acquire();
                return call(lease.Client, token).ConfigureAwait(false).GetAwaiter().GetResult();
            }
            catch (Exception e) when (Translate(e, operation, userToken ?? token) is Exception translated)
            {
                throw translated;
            }
            finally
            {
                if (lease != null) Release(lease);
            }
        }

        /// <summary>As <see cref="Call{T}"/>, without holding a thread while the engine answers (the engine view's background work).</summary>
        private async Task<T> CallAsync<T>(string operation, Func<DockerClient, CancellationToken, Task<T>> call, CancellationToken token, CancellationToken? userToken = null)
        {
            Interlocked.Increment(ref _calls);
            ClientLease lease = null;
            try
            {
                lease = Acquire();
                return await call(lease.Client, token).ConfigureAwait(false);
            }
            catch (Exception e) when (Translate(e, operation, userToken ?? token) is Exception translated)
            {
                throw translated;
            }
            finally
            {
                if (lease != null) Release(lease);
            }
        }

        /// <summary>
        /// What a call's failure becomes for the caller: refusals an <see cref="EngineRefusedException"/> with the engine's
        /// status and words, anything else short of the caller's own cancellation EngineUnreachable; null to let it pass
        /// as it is (the caller's cancellation, or already a <see cref="DyadPortsException"/>).
        /// </summary>
        private Exception Translate(Exception e, string operation, CancellationToken caller)
        {
            if (e is DockerApiException tls && Tls == null && (tls.ResponseBody ?? "").Contains("HTTP request to an HTTPS server", StringComparison.OrdinalIgnoreCase))
            {
                return new DyadPortsException(ErrorIds.EngineUnreachable, FailureCategory.ConnectionError, Endpoint,
                    $"The container engine at '{Endpoint}' serves TLS, and no TLS files were given. Set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH " +
                    "to a folder with ca.pem, cert.pem and key.pem, or use a docker context that has them (DOCKER_CONTEXT).", e);
            }
            if (e is DockerApiException refused) return new EngineRefusedException(Endpoint, operation, refused.StatusCode, EngineWords(refused), e);
            if (e is OperationCanceledException && caller.IsCancellationRequested) return null;
            if (e is DyadPortsException) return null;
            var tlsFiles = Tls == null ? "" : $" TLS files used: {Tls}; the server is verified against that ca.pem only.";
            if (e is OperationCanceledException || e is TimeoutException)
            {
                // Not the caller's cancellation (above): a bound ran out with the connection made and no answer.
                return new DyadPortsException(ErrorIds.EngineUnreachable, FailureCategory.OperationTimeout, Endpoint,
                    $"The container engine at '{Endpoint}' did not answer in time (to {operation}).{tlsFiles} It may be hung or overloaded, or something in between " +
                    "holds the connection without answering. Check it, point DOCKER_HOST / CONTAINER_HOST or -EngineEndpoint at one that answers, " +
                    "or use -Engine Process to check host sockets only.", e);
            }
            return new DyadPortsException(ErrorIds.EngineUnreachable, FailureCategory.ConnectionError, Endpoint,
                $"The container engine at '{Endpoint}' cannot be reached: {Innermost(e).Message}.{tlsFiles} Start it (for example 'systemctl start podman.socket' or 'dockerd'), " +
                "point DOCKER_HOST / CONTAINER_HOST or -EngineEndpoint at a running one, or use -Engine Process to check host sockets only.", e);
        }

        /// <summary>The engine's own message from its JSON error body, else the client's text.</summary>
        private static string EngineWords(DockerApiException e)
        {
            try
            {
                if (!string.IsNullOrEmpty(e.ResponseBody) && Newtonsoft.Json.Linq.JToken.Parse(e.ResponseBody) is Newtonsoft.Json.Linq.JObject body &&
                    body.Value<string>("message") is string message) return message;
            }
            catch (Newtonsoft.Json.JsonException)
            {
                // not JSON: fall through to the raw body
            }
            return string.IsNullOrEmpty(e.ResponseBody) ? e.Message : e.ResponseBody.Trim();
        }

        private static Exception Innermost(Exception e)
        {
            while (e.InnerException != null) e = e.InnerException;
            return e;
        }

        internal static void SplitImage(string image, out string name, out string tag)
        {
            var at = image.IndexOf('@');
            if (at >= 0) { name = image.Substring(0, at); tag = image.Substring(at + 1); return; }
            var colon = image.LastIndexOf(':');
            var slash = image.LastIndexOf('/');
            if (colon > slash) { name = image.Substring(0, colon); tag = image.Substring(colon + 1); }
            else { name = image; tag = "latest"; }
        }

        /// <summary>
        /// The next call gets a fresh client (after the engine stopped answering). Calls under way on the old client
        /// finish on it; it is disposed when the last of them ends. Nothing another runspace is doing is cut short.
        /// </summary>
        public void Reconnect()
        {
            lock (_gate)
            {
                Retire();
                EndStreams();
            }
        }

        public void Dispose()
        {
            lock (_gate)
            {
                _disposed = true;
                Retire();
                EndStreams();
            }
        }

        /// <summary>Ends the event streams under way (their followers see the end and connect again).</summary>
        private void EndStreams()
        {
            if (_streams == null) return;
            _streams.Cancel();
            _streams.Dispose();
            _streams = null;
        }

        /// <summary>The current client, made on first use, with one more call under way on it.</summary>
        private ClientLease Acquire()
        {
            lock (_gate)
            {
                if (_disposed) throw new ObjectDisposedException(nameof(ContainerEngine), $"The client for '{Endpoint}' was disposed.");
                if (_current == null)
                {
                    var credentials = Tls == null ? null : EngineTlsCredentials.Create(Endpoint, Tls);
                    _current = new ClientLease(new DockerClientConfiguration(new Uri(Endpoint), credentials, TimeSpan.FromMinutes(5)).CreateClient());
                }
                _current.Users++;
                return _current;
            }
        }

        private void Release(ClientLease lease)
        {
            lock (_gate)
            {
                lease.Users--;
                if (lease.Retired && lease.Users == 0) lease.Client.Dispose();
            }
        }

        private void Retire()
        {
            if (_current == null) return;
            _current.Retired = true;
            if (_current.Users == 0) _current.Client.Dispose();
            _current = null;
        }

        /// <summary>One Docker.DotNet client and the calls under way on it (guarded by the engine's lock).</summary>
        private sealed class ClientLease
        {
            public ClientLease(DockerClient client) => Client = client;
            public DockerClient Client { get; }
            public int Users { get; set; }
            public bool Retired { get; set; }
        }

        /// <summary>Reports on the thread that reports, in order (System.Progress would post each report to the pool).</summary>
        private sealed class Reporter<T> : IProgress<T>
        {
            private readonly Action<T> _report;
            public Reporter(Action<T> report) => _report = report;
            public void Report(T value) => _report(value);
        }
    }
}
