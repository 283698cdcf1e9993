using DyadPorts.Core.State;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    public class StateIdentityTests
    {
        [Fact]
        public void A_stamped_document_owns_its_id_and_the_adopted_ones_only()
        {
            var stamped = new StateDocument();
            new StateIdentity("0123456789abcdef", new[] { "00000000deadbeef" }).Stamp(stamped);
            Assert.True(stamped.Owns("0123456789abcdef"));
            Assert.True(stamped.Owns("00000000deadbeef"));
            Assert.False(stamped.Owns("00000000cafef00d"));
            Assert.False(stamped.Owns(null));
        }

        [Fact]
        public void Adopted_ids_are_sorted_without_duplicates_blanks_or_its_own()
        {
            var identity = new StateIdentity("b", new[] { "c", "a", "", null, "c", "b" });
            Assert.Equal(new[] { "a", "c" }, identity.Adopted);
        }

        [Fact]
        public void Equal_identities_name_the_same_ids_in_any_order()
        {
            Assert.Equal(new StateIdentity("s", new[] { "a", "b" }), new StateIdentity("s", new[] { "b", "a", "a" }));
            Assert.Equal(new StateIdentity("s"), new StateIdentity("s", System.Array.Empty<string>()));
            Assert.NotEqual(new StateIdentity("s", new[] { "a" }), new StateIdentity("s"));
            Assert.NotEqual(new StateIdentity("s"), new StateIdentity("t"));
            Assert.False(new StateIdentity("s").Equals(null));
        }

        [Fact]
        public void Stamp_gives_a_document_the_id_and_replaces_its_adopted_ids()
        {
            var document = new StateDocument { StateId = "old" };
            document.AdoptedStateIds.Add("stale");
            new StateIdentity("s", new[] { "a" }).Stamp(document);
            Assert.Equal("s", document.StateId);
            Assert.Equal(new[] { "a" }, document.AdoptedStateIds);
            Assert.True(document.Owns("a"));
            Assert.False(document.Owns("stale"));
        }
    }
}
