namespace DyadPorts
{
    /// <summary>Whether one host port is free, and if not, who holds it.</summary>
    public sealed class PortStatus
    {
        public int Port { get; set; }
        public bool Available { get; set; }
        /// <summary>A readable holder, e.g. "container dyad-app-56 (exited)"; null when free.</summary>
        public string HeldBy { get; set; }
        public PortHolderSource? Source { get; set; }

        public override string ToString() => $"{Port}:{(Available ? "free" : HeldBy)}";
    }
}
