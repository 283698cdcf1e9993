using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet.Models;
using DyadPorts.Core.Diagnostics;

namespace DyadPorts.Core.Engines
{
    /// <summary>
    /// One Docker-API endpoint (dockerd or podman's compat service) through Docker.DotNet, never a shell: what the module
    /// asks of an engine. One instance per endpoint is reused for the life of the session, by every runspace of the
    /// process. Its parts: <see cref="EngineConnection"/> (the client, its calls and their failures, <see cref="Reconnect"/>)
    /// and <see cref="ContainerListing"/> (what the containers are and the host ports they hold); here, the engine's kind
    /// and clock, its events, a container's life (create, start, stop, remove, logs, stats) and its images, and the
    /// refusals that doom every input of a command.
    /// </summary>
    public sealed class ContainerEngine : IDisposable
    {
        /// <summary>How long a ping may take before the engine counts as silent.</summary>
        public static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(3);
        private readonly EngineConnection _connection;
        private readonly ContainerListing _listing;
        private EngineKind _kind;

        public ContainerEngine(string endpoint, EngineKind kind, EngineTls tls = null)
        {
            _connection = new EngineConnection(endpoint, tls);
            _listing = new ContainerListing(_connection);
            _kind = kind;
        }

        public string Endpoint => _connection.Endpoint;

        /// <summary>What tells one client from another: its endpoint, and its TLS files when it has them.</summary>
        public static string ClientKey(string endpoint, EngineTls tls) => tls == null ? endpoint : endpoint + "|" + tls.CaPath + "|" + tls.CertPath + "|" + tls.KeyPath;

        /// <summary>The TLS files this client uses; null for none.</summary>
        public EngineTls Tls => _connection.Tls;

        /// <summary>
        /// A container this client created, started, stopped (<c>Removed</c> false) or removed (<c>Removed</c> true): the
        /// session's engine view hears of the process's own writes at once, not only when the engine's events arrive.
        /// </summary>
        public event Action<string, bool> ContainerChanged;

        /// <summary>API calls made through this client so far: what tests and benchmarks count per operation.</summary>
        public long Calls => _connection.Calls;

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
                    version = _connection.Call("report its version", (c, ct) => c.System.GetVersionAsync(ct), cancellationToken);
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
                await _connection.CallAsync("answer a ping", async (c, ct) => { await c.System.PingAsync(ct).ConfigureAwait(false); return true; }, timeout.Token, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>The engine's own time as its <c>GET /info</c> says it (<c>SystemTime</c>, RFC 3339), bounded like a ping (<see cref="EngineClock"/>).</summary>
        public async Task<string> SystemTimeAsync(CancellationToken cancellationToken)
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(PingTimeout);
                var info = await _connection.CallAsync("say its time", (c, ct) => c.System.GetSystemInfoAsync(ct), timeout.Token, cancellationToken).ConfigureAwait(false);
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
                return _listing.Snapshot(configuredPorts, log, cancellationToken);
            }
            catch (EngineRefusedException e)
            {
                throw ListRefused(e); // the list, or a stopped container's inspect, which its ports come from
            }
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

        /// <summary>One inspect, not queued behind a list's; null when the engine has no such container.</summary>
        public ContainerInspectResponse InspectOrNull(string id, CancellationToken cancellationToken) =>
            _listing.InspectOrNullAsync(id, queued: false, cancellationToken).GetAwaiter().GetResult();

        /// <summary>
        /// One container as a list would show it, from one inspect: its actual bindings whenever it has any (running, and
        /// paused too, which keeps the host port the engine chose for a binding that named none), else the configured
        /// ones (HostConfig.PortBindings). Null when the engine has no such container.
        /// </summary>
        public ContainerSummary Describe(string id, CancellationToken cancellationToken) => DescribeAsync(id, queued: false, cancellationToken).GetAwaiter().GetResult();

        /// <summary>As <see cref="Describe"/>, without holding a thread while the engine answers.</summary>
        /// <param name="queued">Whether the inspect waits for one of the <see cref="ContainerListing.InspectsAtOnce"/> slots: true for one of many (an engine view's events).</param>
        public Task<ContainerSummary> DescribeAsync(string id, bool queued, CancellationToken cancellationToken) => _listing.DescribeAsync(id, queued, cancellationToken);

        /// <summary>
        /// Follows the engine's container events from <paramref name="since"/> (best effort: engines keep only so many)
        /// until the stream ends, fails, is cancelled, or <see cref="Reconnect"/> is called; each event goes to
        /// <paramref name="onEvent"/> on the stream's thread. One call, on a connection of its own.
        /// </summary>
        /// <param name="until">Null to follow until the stream ends; else the engine ends the stream at that time (a catch-up).</param>
        public Task FollowEvents(DateTimeOffset since, Action<Message> onEvent, CancellationToken cancellationToken, DateTimeOffset? until = null)
        {
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
            return _connection.Stream(parameters, new Reporter<Message>(onEvent), cancellationToken);
        }

        /// <summary>The container with exactly this name, running or not; null when there is none.</summary>
        public ContainerSummary FindByName(string name, CancellationToken cancellationToken) => _listing.FindByName(name, cancellationToken);

        /// <summary>
        /// Bytes a container has received and transmitted, from one one-shot stats sample (without OneShot dockerd
        /// waits about 2 s per container). Podman before 4.4 swaps rx and tx in its compat stats; that is corrected here.
        /// </summary>
        /// <returns>Null when the engine reports no network counters for the container: no traffic is known, none is assumed.</returns>
        public (long Received, long Transmitted)? NetworkBytes(string id, CancellationToken cancellationToken)
        {
            ContainerStatsResponse stats = null;
            _connection.Call($"report the stats of container {id}", async (c, ct) =>
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
            var version = _connection.Call("report its version", (c, ct) => c.System.GetVersionAsync(ct), cancellationToken);
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
                _connection.Call($"inspect image {image}", (c, ct) => c.Images.InspectImageAsync(image, ct), cancellationToken);
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
            _connection.Call($"pull {image}", async (c, ct) =>
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
            var id = _connection.Call($"create container {parameters.Name}", (c, ct) => c.Containers.CreateContainerAsync(parameters, ct), cancellationToken).ID;
            ContainerChanged?.Invoke(id, false);
            return id;
        }

        public void Start(string id, CancellationToken cancellationToken)
        {
            try
            {
                _connection.Call($"start container {id}", (c, ct) => c.Containers.StartContainerAsync(id, new ContainerStartParameters(), ct), cancellationToken);
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
                _connection.Call($"stop container {id}", (c, ct) => c.Containers.StopContainerAsync(id, new ContainerStopParameters { WaitBeforeKillSeconds = (uint)grace.TotalSeconds }, ct), cancellationToken);
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
                _connection.Call($"remove container {id}", async (c, ct) => { await c.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = force, RemoveVolumes = true }, ct).ConfigureAwait(false); return true; }, cancellationToken);
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
            _listing.Forget(id);
            ContainerChanged?.Invoke(id, true);
        }

        public string LogsTail(string id, int lines, CancellationToken cancellationToken)
        {
            try
            {
                return _connection.Call($"give the logs of container {id}", async (c, ct) =>
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
        /// The next call gets a fresh client (after the engine stopped answering), and the event streams under way end.
        /// Calls under way on the old client finish on it; it is disposed when the last of them ends. Nothing another
        /// runspace is doing is cut short.
        /// </summary>
        public void Reconnect() => _connection.Reconnect();

        public void Dispose() => _connection.Dispose();

        /// <summary>Reports on the thread that reports, in order (System.Progress would post each report to the pool).</summary>
        private sealed class Reporter<T> : IProgress<T>
        {
            private readonly Action<T> _report;
            public Reporter(Action<T> report) => _report = report;
            public void Report(T value) => _report(value);
        }
    }
}
