using DyadPorts.Core.Engines;

namespace DyadPorts.Core.Availability
{
    /// <summary>Something that keeps a port from an app: a container, a host socket or another app's allocation.</summary>
    public sealed class PortHolder
    {
        private PortHolder(PortHolderSource source, string description, ContainerSummary container, string appId)
        {
            Source = source;
            Description = description;
            Container = container;
            AppId = appId;
        }

        public PortHolderSource Source { get; }
        public string Description { get; }
        /// <summary>Set when Source is Container.</summary>
        public ContainerSummary Container { get; }
        /// <summary>The app behind a container or an allocation, when known.</summary>
        public string AppId { get; }

        public static PortHolder ForContainer(ContainerSummary container) =>
            new PortHolder(PortHolderSource.Container, container.Describe(), container, container.AppId);

        public static PortHolder ForAllocation(string appId) =>
            new PortHolder(PortHolderSource.Allocation, $"allocation of app {appId}", null, appId);

        public static PortHolder ForHost(string description) =>
            new PortHolder(PortHolderSource.Host, description, null, null);

        public override string ToString() => Description;
    }
}
