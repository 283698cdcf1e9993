using DyadPorts.Core.Allocation;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    public class AutoKillPolicyTests
    {
        [Theory]
        [InlineData("created")]
        [InlineData("exited")]
        [InlineData("dead")]
        public void A_dormant_container_of_this_state_whose_app_has_no_allocation_is_an_orphan(string state) =>
            Assert.True(AutoKillPolicy.IsOrphan(Fixtures.Container("a", state), 21000, Fixtures.State()));

        [Theory]
        [InlineData("running")]
        [InlineData("paused")]
        [InlineData("restarting")]
        [InlineData("removing")]
        public void A_container_that_is_not_dormant_is_never_an_orphan(string state)
        {
            var why = AutoKillPolicy.WhyKept(Fixtures.Container("a", state), 21000, Fixtures.State());
            Assert.Contains(state, why);
        }

        [Fact]
        public void A_stopped_preview_whose_app_kept_its_allocation_on_that_port_stays()
        {
            var why = AutoKillPolicy.WhyKept(Fixtures.Container("a", "exited"), 21000, Fixtures.State(("a", 21000, null)));
            Assert.Contains("KeepAllocation", why);
            // The same app allocated elsewhere: this container on 21000 is then an orphan.
            Assert.True(AutoKillPolicy.IsOrphan(Fixtures.Container("a", "exited"), 21000, Fixtures.State(("a", 21005, null))));
        }

        [Fact]
        public void Unlabelled_and_other_states_containers_are_never_orphans()
        {
            Assert.Contains("no dyadports.managed label", AutoKillPolicy.WhyKept(Fixtures.Container("a", "exited", managed: false), 21000, Fixtures.State()));
            Assert.Contains("another DyadPorts state", AutoKillPolicy.WhyKept(Fixtures.Container("a", "exited", stateId: "00000000000000bb"), 21000, Fixtures.State()));
        }

        [Fact]
        public void A_container_from_before_the_state_label_is_foreign_unless_this_state_recorded_its_id()
        {
            var legacy = Fixtures.Container("a", "exited", stateId: null, id: "legacy1");
            Assert.False(AutoKillPolicy.IsOrphan(legacy, 21000, Fixtures.State()));
            var recorded = Fixtures.State(("a", 21009, "legacy1")); // app a moved to 21009; this state created legacy1
            Assert.True(AutoKillPolicy.IsOrphan(legacy, 21000, recorded));
        }
    }
}
