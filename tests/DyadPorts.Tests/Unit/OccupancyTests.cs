using System.Linq;
using DyadPorts.Core.Availability;
using DyadPorts.Core.Engines;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    public class OccupancyTests
    {
        [Fact]
        public void Orphans_are_chosen_only_before_the_first_free_port_and_only_when_removing_them_frees_it()
        {
            var snapshot = new EngineSnapshot(new[]
            {
                Fixtures.Container("o1", "exited", port: 21000),
                Fixtures.Container("kept", "exited", port: 21001),
                Fixtures.Container("o2", "created", port: 21002),
                Fixtures.Container("o3", "exited", port: 21004),
            });
            var state = Fixtures.State(("kept", 21001, null));
            var occupancy = new Occupancy(snapshot, state, Fixtures.FreeHost.Instance, _ => false);
            var found = occupancy.OrphansBeforeFirstFree("new", Enumerable.Range(21000, 6));
            Assert.Equal(new[] { (21000, "o1"), (21002, "o2") }, found.Select(f => (f.Port, f.Container.AppId)));
        }

        [Fact]
        public void A_name_alone_never_makes_a_container_the_apps_own()
        {
            var squatter = new ContainerSummary { Id = "x", Name = "dyad-app-a", State = "running", Ports = new[] { new PublishedPort(21000, null, 21000, "tcp") } };
            var occupancy = new Occupancy(new EngineSnapshot(new[] { squatter }), Fixtures.State(), Fixtures.FreeHost.Instance, _ => false);
            Assert.Null(occupancy.OwnContainerPort("a"));
            Assert.Equal(PortHolderSource.Container, occupancy.HolderOf(21000, "a").Source);
        }
    }
}
