using System.Collections.Generic;
using System.Linq;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Availability;
using DyadPorts.Core.Engines;
using DyadPorts.Core.State;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    public class AutoKillPolicyTests
    {
        private const string Mine = "00000000000000aa";

        private static ContainerSummary Container(string appId, string state, string stateId = Mine, bool managed = true, int port = 21000, string id = null)
        {
            var labels = new Dictionary<string, string>();
            if (managed) labels[ContainerSummary.ManagedLabel] = "true";
            if (appId != null) labels[ContainerSummary.AppIdLabel] = appId;
            if (stateId != null) labels[ContainerSummary.StateLabel] = stateId;
            return new ContainerSummary { Id = id ?? "id-" + appId + state, Name = "dyad-app-" + appId, State = state, Labels = labels, Ports = new[] { new PublishedPort(port, null, port, "tcp") } };
        }

        private static StateDocument State(params (string app, int port, string containerId)[] records)
        {
            var d = new StateDocument { StateId = Mine };
            foreach (var (app, port, cid) in records) d.Allocations[app] = new AllocationRecord { AppId = app, Port = port, ContainerId = cid };
            return d;
        }

        [Theory]
        [InlineData("created")]
        [InlineData("exited")]
        [InlineData("dead")]
        public void A_dormant_container_of_this_state_whose_app_has_no_allocation_is_an_orphan(string state) =>
            Assert.True(AutoKillPolicy.IsOrphan(Container("a", state), 21000, State()));

        [Theory]
        [InlineData("running")]
        [InlineData("paused")]
        [InlineData("restarting")]
        [InlineData("removing")]
        public void A_container_that_is_not_dormant_is_never_an_orphan(string state)
        {
            var why = AutoKillPolicy.WhyKept(Container("a", state), 21000, State());
            Assert.Contains(state, why);
        }

        [Fact]
        public void A_stopped_preview_whose_app_kept_its_allocation_on_that_port_stays()
        {
            var why = AutoKillPolicy.WhyKept(Container("a", "exited"), 21000, State(("a", 21000, null)));
            Assert.Contains("KeepAllocation", why);
            // The same app allocated elsewhere: this container on 21000 is then an orphan.
            Assert.True(AutoKillPolicy.IsOrphan(Container("a", "exited"), 21000, State(("a", 21005, null))));
        }

        [Fact]
        public void Unlabelled_and_other_states_containers_are_never_orphans()
        {
            Assert.Contains("no dyadports.managed label", AutoKillPolicy.WhyKept(Container("a", "exited", managed: false), 21000, State()));
            Assert.Contains("another DyadPorts state", AutoKillPolicy.WhyKept(Container("a", "exited", stateId: "00000000000000bb"), 21000, State()));
        }

        [Fact]
        public void A_container_from_before_the_state_label_is_foreign_unless_this_state_recorded_its_id()
        {
            var legacy = Container("a", "exited", stateId: null, id: "legacy1");
            Assert.False(AutoKillPolicy.IsOrphan(legacy, 21000, State()));
            Assert.False(Ownership.BelongsTo(legacy, State()));
            var recorded = State(("a", 21009, "legacy1")); // app a moved to 21009; this state created legacy1
            Assert.True(Ownership.BelongsTo(legacy, recorded));
            Assert.True(AutoKillPolicy.IsOrphan(legacy, 21000, recorded));
        }

        [Fact]
        public void Orphans_are_chosen_only_before_the_first_free_port_and_only_when_removing_them_frees_it()
        {
            var snapshot = new EngineSnapshot(new[]
            {
                Container("o1", "exited", port: 21000),
                Container("kept", "exited", port: 21001),
                Container("o2", "created", port: 21002),
                Container("o3", "exited", port: 21004),
            });
            var state = State(("kept", 21001, null));
            var occupancy = new Occupancy(snapshot, state, new FreeHost(), _ => false);
            var found = occupancy.OrphansBeforeFirstFree("new", Enumerable.Range(21000, 6));
            Assert.Equal(new[] { (21000, "o1"), (21002, "o2") }, found.Select(f => (f.Port, f.Container.AppId)));
        }

        [Fact]
        public void A_name_alone_never_makes_a_container_the_apps_own()
        {
            var squatter = new ContainerSummary { Id = "x", Name = "dyad-app-a", State = "running", Ports = new[] { new PublishedPort(21000, null, 21000, "tcp") } };
            var occupancy = new Occupancy(new EngineSnapshot(new[] { squatter }), State(), new FreeHost(), _ => false);
            Assert.Null(occupancy.OwnContainerPort("a"));
            Assert.Equal(PortHolderSource.Container, occupancy.HolderOf(21000, "a").Source);
        }

        private sealed class FreeHost : IHostPortProbe
        {
            public bool IsFree(int port) => true;
            public string DescribeHolder(int port) => "nobody";
        }
    }
}
