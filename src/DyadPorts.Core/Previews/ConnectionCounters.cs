namespace DyadPorts.Core.Previews
{
    /// <summary>What a container's own network namespace says about connections to its port.</summary>
    public sealed class ConnectionCounters
    {
        public ConnectionCounters(long accepted, int attached)
        {
            Accepted = accepted;
            Attached = attached;
        }

        /// <summary>Connections accepted so far (PassiveOpens): an ARP frame never moves it, one request moves it by 1.</summary>
        public long Accepted { get; }
        /// <summary>ESTABLISHED connections whose local port is the preview's: clients attached right now.</summary>
        public int Attached { get; }
    }
}
