using System.Collections.Generic;
using DyadPorts.Core.Availability;
using DyadPorts.Core.Engines;
using DyadPorts.Core.State;

namespace DyadPorts.Tests.Support
{
    /// <summary>
    /// In-memory containers, states and a host with every port free, for the pure tests of the ownership rules; and
    /// the files under tests/DyadPorts.Tests/Fixtures, read from the source tree (they are never rewritten).
    /// </summary>
    public static class Fixtures
    {
        public static string PathOf(params string[] parts) =>
            System.IO.Path.Combine(System.IO.Path.Combine(RepoFiles.Root, "tests", "DyadPorts.Tests", "Fixtures"), System.IO.Path.Combine(parts));

        /// <summary>The state id of <see cref="State"/>: containers labelled with it are this state's.</summary>
        public const string Mine = "00000000000000aa";

        public static ContainerSummary Container(string appId, string state, string stateId = Mine, bool managed = true, int port = 21000, string id = null)
        {
            var labels = new Dictionary<string, string>();
            if (managed) labels[ContainerSummary.ManagedLabel] = "true";
            if (appId != null) labels[ContainerSummary.AppIdLabel] = appId;
            if (stateId != null) labels[ContainerSummary.StateLabel] = stateId;
            return new ContainerSummary { Id = id ?? "id-" + appId + state, Name = "dyad-app-" + appId, State = state, Labels = labels, Ports = new[] { new PublishedPort(port, null, port, "tcp") } };
        }

        public static StateDocument State(params (string app, int port, string containerId)[] records)
        {
            var d = new StateDocument { StateId = Mine };
            foreach (var (app, port, cid) in records) d.Allocations[app] = new AllocationRecord { AppId = app, Port = port, ContainerId = cid };
            return d;
        }

        /// <summary>A host on which nothing listens.</summary>
        public sealed class FreeHost : IHostPortProbe
        {
            public static readonly FreeHost Instance = new FreeHost();

            public bool IsFree(int port) => true;
            public string DescribeHolder(int port) => "nobody";
        }
    }
}
