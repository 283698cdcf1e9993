using System.Collections.Generic;
using DyadPorts.Core.Engines;

namespace DyadPorts.Core.Agent
{
    /// <summary>
    /// What a process asks the agent (<see cref="EngineAgent"/>): the view of one endpoint, reached with these TLS files,
    /// after the containers this process changed itself (so that the answer has them, as a warm session's own view has).
    /// </summary>
    public sealed class AgentRequest
    {
        public string Endpoint { get; init; }
        public EngineKind Kind { get; init; }
        /// <summary>The folder of the TLS files (ca.pem, cert.pem, key.pem); null for none.</summary>
        public string TlsFolder { get; init; }
        /// <summary>Where the TLS files came from, for messages; null for none.</summary>
        public string TlsSource { get; init; }
        /// <summary>Containers this process created, started or stopped (false) or removed (true) since the agent last answered it.</summary>
        public IReadOnlyList<KeyValuePair<string, bool>> Changed { get; init; } = new List<KeyValuePair<string, bool>>();
    }

    /// <summary>The agent's answer: its view's snapshot, or none (the asker lists, as without an agent), with why.</summary>
    public sealed class AgentAnswer
    {
        /// <summary>The view's containers; null when the view does not answer now (not live yet, behind, or the engine is silent).</summary>
        public IReadOnlyList<ContainerSummary> Containers { get; init; }
        /// <summary>Why there are no containers, for the asker's verbose line; null with containers.</summary>
        public string Reason { get; init; }
    }
}
