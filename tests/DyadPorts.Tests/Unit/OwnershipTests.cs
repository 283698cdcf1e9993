using DyadPorts.Core.Engines;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    public class OwnershipTests
    {
        [Fact]
        public void A_container_from_before_the_state_label_belongs_to_this_state_only_when_it_recorded_its_id()
        {
            var legacy = Fixtures.Container("a", "exited", stateId: null, id: "legacy1");
            Assert.False(Ownership.BelongsTo(legacy, Fixtures.State()));
            Assert.True(Ownership.BelongsTo(legacy, Fixtures.State(("a", 21009, "legacy1"))));
        }

        [Fact]
        public void A_labelled_container_belongs_to_the_state_its_label_names()
        {
            Assert.True(Ownership.BelongsTo(Fixtures.Container("a", "running"), Fixtures.State()));
            Assert.False(Ownership.BelongsTo(Fixtures.Container("a", "running", stateId: "00000000000000bb"), Fixtures.State()));
        }
    }
}
