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
    /// One instance per endpoint is reused for the life of the session.
    /// </summary>
    public sealed class ContainerEngine : IDisposable
    {
        private static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(3);
        private readonly DockerClient _client;
        // A container's port bindings never change after create, so one inspect per stopped container is enough.
        private readonly ConcurrentDictionary<string, IReadOnlyList<PublishedPort>> _configuredPorts = new ConcurrentDictionary<string, IReadOnlyList<PublishedPort>>();
        private EngineKind _kind;

        public ContainerEngine(string endpoint, EngineKind kind)
        {
            Endpoint = endpoint;
            _kind = kind;
            _client = new DockerClientConfiguration(new Uri(endpoint), null, TimeSpan.FromMinutes(5)).CreateClient();
        }

        public string Endpoint { get; }

        /// <summary>API calls made through this client so far: what tests and benchmarks count per operation.</summary>
        public long Calls => Interlocked.Read(ref _calls);
        private long _calls;

        /// <summary>Docker or Podman; asks the engine once when the endpoint alone does not say.</summary>
        public EngineKind Kind(CancellationToken cancellationToken)
        {
            if (_kind == EngineKind.Auto)
            {
                var version = Call(ct => _client.System.GetVersionAsync(ct), cancellationToken);
                var isPodman = version.Components?.Any(c => c.Name != null && c.Name.IndexOf("Podman", StringComparison.OrdinalIgnoreCase) >= 0) == true;
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
                return false;
            }
        }

        public void Ping(CancellationToken cancellationToken)
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(PingTimeout);
                Call(async ct => { await _client.System.PingAsync(ct).ConfigureAwait(false); return true; }, timeout.Token, cancellationToken);
            }
        }

        /// <summary>
        /// Every container, running or not, with the host ports it holds: one list call, plus one inspect
        /// per stopped container the session has not seen (docker lists no ports for those).
        /// </summary>
        public EngineSnapshot Snapshot(CancellationToken cancellationToken)
        {
            var listed = Call(ct => _client.Containers.ListContainersAsync(new ContainersListParameters { All = true }, ct), cancellationToken);
            var live = new HashSet<string>(listed.Select(c => c.ID));
            foreach (var gone in _configuredPorts.Keys.Where(id => !live.Contains(id)).ToList()) _configuredPorts.TryRemove(gone, out _);

            var containers = new List<ContainerSummary>(listed.Count);
            foreach (var c in listed)
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
                if (ports.Count == 0 && !summary.IsRunning)
                {
                    ports = _configuredPorts.GetOrAdd(c.ID, id => ConfiguredPorts(id, cancellationToken));
                }
                summary.Ports = ports;
                containers.Add(summary);
            }
            return new EngineSnapshot(containers);
        }

        private IReadOnlyList<PublishedPort> ConfiguredPorts(string id, CancellationToken cancellationToken)
        {
            var inspected = InspectOrNull(id, cancellationToken);
            return PortBindingParser.FromPortBindings(inspected?.HostConfig?.PortBindings);
        }

        public ContainerInspectResponse InspectOrNull(string id, CancellationToken cancellationToken)
        {
            try
            {
                return Call(ct => _client.Containers.InspectContainerAsync(id, ct), cancellationToken);
            }
            catch (DockerContainerNotFoundException)
            {
                return null;
            }
        }

        public bool ImageExists(string image, CancellationToken cancellationToken)
        {
            try
            {
                Call(ct => _client.Images.InspectImageAsync(image, ct), cancellationToken);
                return true;
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                return false;
            }
        }

        /// <summary>
        /// Pulls like docker run does when the image is missing; throws DockerApiException on failure.
        /// Progress is reported on the calling thread, so a cmdlet may forward it to WriteProgress.
        /// </summary>
        public void Pull(string image, Action<JSONMessage> progress, CancellationToken cancellationToken)
        {
            SplitImage(image, out var name, out var tag);
            var messages = new BlockingCollection<JSONMessage>();
            var pull = Task.Run(async () =>
            {
                try
                {
                    await _client.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = name, Tag = tag }, null, new Progress(messages.Add), cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    messages.CompleteAdding();
                }
            });
            string failure = null;
            foreach (var message in messages.GetConsumingEnumerable())
            {
                if (!string.IsNullOrEmpty(message.ErrorMessage)) failure = message.ErrorMessage;
                progress?.Invoke(message);
            }
            Call(async _ => { await pull.ConfigureAwait(false); return true; }, cancellationToken);
            if (failure != null) throw new DockerApiException(HttpStatusCode.NotFound, failure);
        }

        public string Create(CreateContainerParameters parameters, CancellationToken cancellationToken) =>
            Call(ct => _client.Containers.CreateContainerAsync(parameters, ct), cancellationToken).ID;

        public void Start(string id, CancellationToken cancellationToken) =>
            Call(ct => _client.Containers.StartContainerAsync(id, new ContainerStartParameters(), ct), cancellationToken);

        public void Stop(string id, TimeSpan grace, CancellationToken cancellationToken) =>
            Call(ct => _client.Containers.StopContainerAsync(id, new ContainerStopParameters { WaitBeforeKillSeconds = (uint)grace.TotalSeconds }, ct), cancellationToken);

        /// <summary>Force-removes a container; gone already counts as done.</summary>
        public void Remove(string id, CancellationToken cancellationToken)
        {
            try
            {
                Call(async ct => { await _client.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true, RemoveVolumes = true }, ct).ConfigureAwait(false); return true; }, cancellationToken);
            }
            catch (DockerContainerNotFoundException)
            {
            }
            _configuredPorts.TryRemove(id, out _);
        }

        public string LogsTail(string id, int lines, CancellationToken cancellationToken)
        {
            try
            {
                return Call(async ct =>
                {
                    using (var stream = await _client.Containers.GetContainerLogsAsync(id, false, new ContainerLogsParameters { ShowStdout = true, ShowStderr = true, Tail = lines.ToString(System.Globalization.CultureInfo.InvariantCulture) }, ct).ConfigureAwait(false))
                    {
                        var (stdout, stderr) = await stream.ReadOutputToEndAsync(ct).ConfigureAwait(false);
                        return (stdout + stderr).TrimEnd();
                    }
                }, cancellationToken);
            }
            catch (DockerApiException e)
            {
                return $"(logs unavailable: {e.Message})";
            }
        }

        /// <summary>
        /// Runs one API call to completion on the calling thread. Failures to reach the engine become
        /// EngineUnreachable naming the endpoint; API answers (DockerApiException) pass through for callers to read.
        /// </summary>
        /// <param name="userToken">The caller's own token when <paramref name="token"/> also carries a timeout.</param>
        private T Call<T>(Func<CancellationToken, Task<T>> call, CancellationToken token, CancellationToken? userToken = null)
        {
            Interlocked.Increment(ref _calls);
            try
            {
                return call(token).ConfigureAwait(false).GetAwaiter().GetResult();
            }
            catch (DockerApiException)
            {
                throw;
            }
            catch (OperationCanceledException) when ((userToken ?? token).IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e)
            {
                throw new DyadPortsException(ErrorIds.EngineUnreachable, FailureCategory.ConnectionError, Endpoint,
                    $"The container engine at '{Endpoint}' cannot be reached: {Innermost(e).Message}. Start it (for example 'systemctl start podman.socket' or 'dockerd'), " +
                    "point DOCKER_HOST / CONTAINER_HOST or -EngineEndpoint at a running one, or use -Engine Process to check host sockets only.", e);
            }
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

        public void Dispose() => _client.Dispose();

        private sealed class Progress : IProgress<JSONMessage>
        {
            private readonly Action<JSONMessage> _report;
            public Progress(Action<JSONMessage> report) => _report = report;
            public void Report(JSONMessage value) => _report(value);
        }
    }
}
