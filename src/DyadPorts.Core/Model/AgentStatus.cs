using DyadPorts.Core.Engines;

namespace DyadPorts
{
    /// <summary>What Start-DyadPortAgent writes once it listens: where, as which process, and which engine's view it keeps.</summary>
    public sealed class AgentStatus
    {
        public AgentStatus(string path, int processId, string endpoint, EngineKind engine, bool live)
        {
            Path = path;
            ProcessId = processId;
            Endpoint = endpoint;
            Engine = engine;
            Live = live;
        }

        /// <summary>The socket one-shot commands ask (DYAD_PORTS_AGENT).</summary>
        public string Path { get; }
        /// <summary>The agent's process: stop it by this id (or Ctrl+C in its shell).</summary>
        public int ProcessId { get; }
        /// <summary>The endpoint it followed from the start; it follows others as commands ask for them.</summary>
        public string Endpoint { get; }
        public EngineKind Engine { get; }
        /// <summary>Whether its view of <see cref="Endpoint"/> answered when it wrote this (it answers from when it does).</summary>
        public bool Live { get; }
    }
}
