using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet.Models;
using DyadPorts.Core.Diagnostics;

namespace DyadPorts.Core.Engines
{
    /// <summary>
    /// What one endpoint's containers are and the host ports each holds, as a list or an inspect says: a list shows no
    /// ports for a stopped container on docker, so those are inspected, and their configured bindings, which never change
    /// after create, are remembered by container id for as long as a list shows the container (a reconnect keeps them):
    /// one inspect per stopped container.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable",
        Justification = "The inspect slots' semaphore never makes a wait handle (only WaitAsync and Release): nothing to release, and a call may still hold a slot after its client is disposed.")]
    internal sealed class ContainerListing
    {
        private readonly EngineConnection _connection;
        private readonly ConcurrentDictionary<string, IReadOnlyList<PublishedPort>> _configuredPorts = new ConcurrentDictionary<string, IReadOnlyList<PublishedPort>>();

        public ContainerListing(EngineConnection connection) => _connection = connection;

        /// <summary>A container this client removed: nothing of it is remembered.</summary>
        public void Forget(string id) => _configuredPorts.TryRemove(id, out _);

        /// <summary>
        /// Every container, running or not, with the host ports it holds: one list call, plus one inspect per stopped
        /// container neither this client's memory nor <paramref name="configuredPorts"/> knows (the file is read only when the
        /// memory misses, and saved when that added an entry or the list no longer has one it stored; null for none).
        /// Throws <see cref="EngineRefusedException"/> when the engine refuses the list or an inspect.
        /// </summary>
        public EngineSnapshot Snapshot(ConfiguredPortsCache configuredPorts, IOperationLog log, CancellationToken cancellationToken)
        {
            var listed = _connection.Call("list its containers", (c, ct) => c.Containers.ListContainersAsync(new ContainersListParameters { All = true }, ct), cancellationToken);
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

        /// <summary>
        /// How many of this client's queued inspects run at once, at most: a list's of the containers it has not seen, and
        /// an engine view's for the events it follows. A single inspect a command asks for itself (a preview's, a view's
        /// read of a container the process changed) is not queued behind them.
        /// </summary>
        public const int InspectsAtOnce = 8;
        // Each inspect is a connection of its own: a one-shot list of hundreds of containers it has not seen, or a view's
        // reconnection that replays a busy minute, would otherwise open dozens at once (a socket proxy's backlog or
        // connection limit then refuses some). An inspect waiting for a slot counts as under way.
        private readonly SemaphoreSlim _inspectSlots = new SemaphoreSlim(InspectsAtOnce);

        /// <param name="queued">Whether the inspect takes one of the <see cref="InspectsAtOnce"/> slots (one of many), or runs at once (a command's own).</param>
        public async Task<ContainerInspectResponse> InspectOrNullAsync(string id, bool queued, CancellationToken cancellationToken)
        {
            if (queued) await _inspectSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await _connection.CallAsync($"inspect container {id}", (c, ct) => c.Containers.InspectContainerAsync(id, ct), cancellationToken).ConfigureAwait(false);
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
        /// ones (HostConfig.PortBindings), which are remembered. Null when the engine has no such container.
        /// </summary>
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

        /// <summary>The container with exactly this name, running or not; null when there is none.</summary>
        public ContainerSummary FindByName(string name, CancellationToken cancellationToken)
        {
            var filters = new Dictionary<string, IDictionary<string, bool>> { ["name"] = new Dictionary<string, bool> { ["^/?" + name + "$"] = true } };
            var listed = _connection.Call($"find container {name}", (c, ct) => c.Containers.ListContainersAsync(new ContainersListParameters { All = true, Filters = filters }, ct), cancellationToken);
            var match = listed.FirstOrDefault(c => c.Names != null && c.Names.Any(n => n.TrimStart('/') == name));
            // A container no inspect finds still holds the name (a create under way, which a failed start's clean-up
            // removes): its summary, without bindings, none remembered.
            return match == null ? null : Summarize(match, id => ConfiguredPorts(new[] { id }, cancellationToken).GetValueOrDefault(id), keepUnfound: true);
        }
    }
}
