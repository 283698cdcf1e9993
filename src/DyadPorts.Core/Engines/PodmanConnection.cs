namespace DyadPorts.Core.Engines
{
    /// <summary>A podman system connection.</summary>
    public sealed class PodmanConnection
    {
        public string Name { get; set; }
        public string Uri { get; set; }
        public string Identity { get; set; }
        public bool IsMachine { get; set; }
        /// <summary>The file it was read from.</summary>
        public string Source { get; set; }
    }
}
