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
        /// <summary>The id of the state file whose DyadPorts created the container.</summary>
        public const string StateLabel = "dyadports.state";
        /// <summary>The claim of the start that created the container (<see cref="State.AllocationRecord.ClaimRevision"/>), in decimal.</summary>
        public const string ClaimLabel = "dyadports.claim";

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

        /// <summary>
        /// The app a DyadPorts container serves, from its label; null for any container DyadPorts did not create,
        /// whatever its name: a container merely named dyad-app-X is nobody's preview.
        /// </summary>
        public string AppId => IsManaged && Labels.TryGetValue(AppIdLabel, out var id) && !string.IsNullOrEmpty(id) ? id : null;

        /// <summary>The AppId its label or its dyad-app-&lt;id&gt; name suggests: for tab completion only, never for ownership.</summary>
        public string SuggestedAppId => AppId ?? Allocation.AppIds.FromContainerName(Name);

        /// <summary>The dyadports.state label; null on containers from before it existed, and on foreign ones.</summary>
        public string StateId => Labels.TryGetValue(StateLabel, out var id) && !string.IsNullOrEmpty(id) ? id : null;

        /// <summary>The dyadports.claim label; null on containers from before it existed, and on foreign ones.</summary>
        public long? ClaimRevision => Labels.TryGetValue(ClaimLabel, out var text) &&
                                      long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var claim) ? claim : null;

        /// <summary>created, exited or dead: it holds its ports but serves nothing. Paused and restarting ones are not.</summary>
        public bool IsDormant => State != null && (State.Equals("created", StringComparison.OrdinalIgnoreCase) ||
                                                   State.Equals("exited", StringComparison.OrdinalIgnoreCase) ||
                                                   State.Equals("dead", StringComparison.OrdinalIgnoreCase) ||
                                                   State.Equals("stopped", StringComparison.OrdinalIgnoreCase) ||
                                                   State.Equals("configured", StringComparison.OrdinalIgnoreCase));

        /// <summary>
        /// The host ports it publishes over TCP, each once, in the order of <see cref="Ports"/>. A loop, not LINQ: LINQ
        /// over <see cref="PublishedPort"/>, a struct of the module's, is compiled at run time in a one-shot process.
        /// </summary>
        public IReadOnlyList<int> TcpHostPorts
        {
            get
            {
                var ports = new List<int>(Ports.Count);
                foreach (var p in Ports)
                {
                    if (p.IsTcp && p.HostPort > 0 && !ports.Contains(p.HostPort)) ports.Add(p.HostPort);
                }
                return ports;
            }
        }

        /// <summary>"container dyad-app-56" or "container dyad-app-56 (exited)".</summary>
        public string Describe() => IsRunning ? $"container {Name}" : $"container {Name} ({State})";
    }
}
