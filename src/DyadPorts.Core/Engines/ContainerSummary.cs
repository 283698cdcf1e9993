using System;
using System.Collections.Generic;
using System.Linq;

namespace DyadPorts.Core.Engines
{
    /// <summary>One host port a container publishes or is configured to publish.</summary>
    public readonly struct PublishedPort
    {
        public PublishedPort(int hostPort, string hostIp, int containerPort, string protocol)
        {
            HostPort = hostPort;
            HostIp = string.IsNullOrEmpty(hostIp) ? null : hostIp;
            ContainerPort = containerPort;
            Protocol = string.IsNullOrEmpty(protocol) ? "tcp" : protocol.ToLowerInvariant();
        }

        public int HostPort { get; }
        /// <summary>Null means every address (0.0.0.0 / ::).</summary>
        public string HostIp { get; }
        public int ContainerPort { get; }
        public string Protocol { get; }
        public bool IsTcp => Protocol == "tcp";

        public override string ToString() => $"{HostIp ?? "0.0.0.0"}:{HostPort}->{ContainerPort}/{Protocol}";
    }

    /// <summary>What DyadPorts needs to know about one container of the engine.</summary>
    public sealed class ContainerSummary
    {
        public const string AppIdLabel = "dyadports.app-id";
        public const string ManagedLabel = "dyadports.managed";

        public string Id { get; set; }
        public string Name { get; set; }
        /// <summary>Engine state: running, exited, created, paused, ...</summary>
        public string State { get; set; }
        public string Image { get; set; }
        public IReadOnlyDictionary<string, string> Labels { get; set; } = new Dictionary<string, string>();
        public IReadOnlyList<PublishedPort> Ports { get; set; } = Array.Empty<PublishedPort>();
        public DateTimeOffset? Created { get; set; }

        public bool IsRunning => string.Equals(State, "running", StringComparison.OrdinalIgnoreCase);

        /// <summary>Created by DyadPorts: the only containers it may ever remove.</summary>
        public bool IsManaged => Labels.TryGetValue(ManagedLabel, out var v) && string.Equals(v, "true", StringComparison.OrdinalIgnoreCase);

        /// <summary>The app this container serves: its label, else its dyad-app-&lt;id&gt; name.</summary>
        public string AppId => Labels.TryGetValue(AppIdLabel, out var id) && !string.IsNullOrEmpty(id) ? id : Allocation.AppIds.FromContainerName(Name);

        public IEnumerable<int> TcpHostPorts => Ports.Where(p => p.IsTcp && p.HostPort > 0).Select(p => p.HostPort).Distinct();

        /// <summary>"container dyad-app-56" or "container dyad-app-56 (exited)".</summary>
        public string Describe() => IsRunning ? $"container {Name}" : $"container {Name} ({State})";
    }

    /// <summary>All containers of one engine at one moment, indexed by host port.</summary>
    public sealed class EngineSnapshot
    {
        private readonly Dictionary<int, List<ContainerSummary>> _byHostPort = new Dictionary<int, List<ContainerSummary>>();

        public EngineSnapshot(IReadOnlyList<ContainerSummary> containers)
        {
            Containers = containers;
            foreach (var container in containers)
            {
                foreach (var port in container.TcpHostPorts)
                {
                    if (!_byHostPort.TryGetValue(port, out var list)) _byHostPort[port] = list = new List<ContainerSummary>();
                    list.Add(container);
                }
            }
        }

        public IReadOnlyList<ContainerSummary> Containers { get; }

        public IReadOnlyList<ContainerSummary> OnHostPort(int port) =>
            _byHostPort.TryGetValue(port, out var list) ? list : (IReadOnlyList<ContainerSummary>)Array.Empty<ContainerSummary>();

        /// <summary>The app's containers, running ones first.</summary>
        public IEnumerable<ContainerSummary> ForApp(string appId) =>
            Containers.Where(c => string.Equals(c.AppId, appId, StringComparison.Ordinal)).OrderByDescending(c => c.IsRunning);
    }
}
