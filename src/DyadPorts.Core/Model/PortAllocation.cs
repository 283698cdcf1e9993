using System;

namespace DyadPorts
{
    /// <summary>An app's port, reconciled with the engine and the host at the time it was read.</summary>
    public sealed class PortAllocation
    {
        public string AppId { get; set; }
        public int Port { get; set; }
        public AllocationStatus Status { get; set; }
        public string ContainerName { get; set; }
        public EngineKind Engine { get; set; }
        public string EngineEndpoint { get; set; }
        /// <summary>The host whose port space the port is in: "localhost" for this machine, machine:&lt;id&gt; for another machine's local engine (a fleet state), else the remote engine's host name.</summary>
        public string Host { get; set; }
        public DateTimeOffset AllocatedAt { get; set; }
        /// <summary>Who holds the port when Status is Conflict; for Unknown, the other machine whose local engine or processes run the app (a fleet state); null otherwise.</summary>
        public string HeldBy { get; set; }
        public string ContainerId { get; set; }
        public int? ProcessId { get; set; }

        public override string ToString() => $"{AppId}:{Port}";
    }
}
