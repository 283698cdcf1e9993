namespace DyadPorts
{
    /// <summary>How an allocation compares with what the system really shows.</summary>
    public enum AllocationStatus
    {
        /// <summary>The app's own container or process runs on the port.</summary>
        Active,
        /// <summary>Allocated, no preview yet, and nothing else holds the port.</summary>
        Reserved,
        /// <summary>The app's preview is gone or stopped.</summary>
        Stale,
        /// <summary>Something other than the app now holds the port.</summary>
        Conflict,
        /// <summary>Returned by Remove-DyadPortAllocation -PassThru: the allocation no longer exists.</summary>
        Released,
        /// <summary>The allocation's host (another engine host) could not be reached, so what runs there is not known.</summary>
        Unknown,
    }

    /// <summary>What kind of thing holds a port.</summary>
    public enum PortHolderSource
    {
        Container,
        Host,
        Allocation,
    }

    /// <summary>Where previews run. Auto resolves to one of the others.</summary>
    public enum EngineKind
    {
        Auto,
        Docker,
        Podman,
        Process,
    }
}
