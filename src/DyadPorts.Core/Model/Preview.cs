using System;

namespace DyadPorts
{
    /// <summary>A running app preview and where to reach it.</summary>
    public sealed class Preview
    {
        public string AppId { get; set; }
        public int Port { get; set; }
        public string Url { get; set; }
        public string ContainerName { get; set; }
        public string ContainerId { get; set; }
        public int? ProcessId { get; set; }
        public EngineKind Engine { get; set; }
        public string EngineEndpoint { get; set; }
        public string Image { get; set; }
        public string State { get; set; }
        public DateTimeOffset? StartedAt { get; set; }
        /// <summary>Ports tried and lost to a race before this one, in order.</summary>
        public int[] PortsLostToRaces { get; set; } = Array.Empty<int>();

        public override string ToString() => Url;
    }
}
