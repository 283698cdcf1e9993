using System;
using DyadPorts.Core.Engines;

namespace DyadPorts.Core.Availability
{
    /// <summary>Something that keeps a port from an app: a container, a host socket or another app's allocation.</summary>
    public sealed class PortHolder
    {
        private readonly Lazy<string> _description;

        private PortHolder(PortHolderSource source, Lazy<string> description, ContainerSummary container, string appId)
        {
            Source = source;
            _description = description;
            Container = container;
            AppId = appId;
        }

        public PortHolderSource Source { get; }
        /// <summary>Computed on first use: naming a host process reads /proc, which a scan past a held port should not pay for.</summary>
        public string Description => _description.Value;
        /// <summary>Set when Source is Container.</summary>
        public ContainerSummary Container { get; }
        /// <summary>The app behind a container or an allocation, when known.</summary>
        public string AppId { get; }

        public static PortHolder ForContainer(ContainerSummary container) =>
            new PortHolder(PortHolderSource.Container, new Lazy<string>(container.Describe), container, container.AppId);

        public static PortHolder ForAllocation(string appId) =>
            new PortHolder(PortHolderSource.Allocation, new Lazy<string>(() => $"allocation of app {appId}"), null, appId);

        public static PortHolder ForHost(Func<string> describe) =>
            new PortHolder(PortHolderSource.Host, new Lazy<string>(describe), null, null);

        public override string ToString() => Description;
    }
}
