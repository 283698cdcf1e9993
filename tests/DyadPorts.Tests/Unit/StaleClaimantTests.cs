using System.Collections.Generic;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Availability;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Ledger;
using DyadPorts.Core.State;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary>A container's claim label against its app's record: the current claim's preview, or a stale claimant.</summary>
    public class StaleClaimantTests
    {
        private static ContainerSummary Claimed(string appId, string state, long? claim, int port = 21000, string id = null)
        {
            var c = Fixtures.Container(appId, state, port: port, id: id);
            var labels = new Dictionary<string, string>(c.Labels);
            if (claim != null) labels[ContainerSummary.ClaimLabel] = claim.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
            c.Labels = labels;
            return c;
        }

        private static StateDocument State(long? claim, string containerId = null, int port = 21000)
        {
            var state = Fixtures.State(("a", port, containerId));
            state.Allocations["a"].ClaimRevision = claim;
            return state;
        }

        [Fact]
        public void A_container_under_an_older_claim_on_the_records_port_that_the_record_does_not_name_is_a_stale_claimant()
        {
            var state = State(120);
            var stale = Claimed("a", "running", 100);
            Assert.True(Ownership.IsStaleClaimant(stale, state.Allocations["a"]));
            Assert.False(Ownership.IsAppsOwn(stale, "a", state));
            Assert.True(Ownership.IsAppsOfAnyClaim(stale, "a", state));
            Assert.Empty(new EngineSnapshot(new[] { stale }).ForApp("a", state));
        }

        [Theory]
        [InlineData(120L, 120L, null, 21000)]    // the same claim
        [InlineData(120L, 130L, null, 21000)]    // a newer claim than the record's (a restored record)
        [InlineData(120L, null, null, 21000)]    // a container from before the claim label
        [InlineData(null, 100L, null, 21000)]    // a record from before claims (0.3.0 and older)
        [InlineData(120L, 100L, "recorded", 21000)] // the record names it: recorded or adopted under this claim
        [InlineData(120L, 100L, null, 21001)]    // it publishes another port: the app moved on, its own leftover there
        public void Otherwise_it_is_the_apps_own(long? recordClaim, long? label, string recorded, int port)
        {
            var state = State(recordClaim, recorded);
            var container = Claimed("a", "running", label, port: port, id: recorded ?? "other");
            Assert.False(Ownership.IsStaleClaimant(container, state.Allocations["a"]));
            Assert.True(Ownership.IsAppsOwn(container, "a", state));
        }

        [Fact]
        public void A_running_stale_claimant_on_the_records_port_makes_it_a_Conflict_naming_it_not_Active()
        {
            var state = State(120);
            var occupancy = new Occupancy(new EngineSnapshot(new[] { Claimed("a", "running", 100) }), state, Fixtures.FreeHost.Instance, _ => false);
            var seen = Reconciler.Reconcile(state.Allocations["a"], occupancy);
            Assert.Equal(AllocationStatus.Conflict, seen.Status);
            Assert.Contains("stale claimant", seen.HeldBy, System.StringComparison.Ordinal);
            Assert.Contains("100", seen.HeldBy, System.StringComparison.Ordinal);

            var current = State(100);
            Assert.Equal(AllocationStatus.Active, Reconciler.Reconcile(current.Allocations["a"], new Occupancy(new EngineSnapshot(new[] { Claimed("a", "running", 100) }), current, Fixtures.FreeHost.Instance, _ => false)).Status);
        }

        [Fact]
        public void AUTO_KILL_PORT_may_remove_a_dormant_stale_claimant_never_a_running_one_or_the_current_claims_container()
        {
            Assert.True(AutoKillPolicy.IsOrphan(Claimed("a", "exited", 100), 21000, State(120)));
            Assert.False(AutoKillPolicy.IsOrphan(Claimed("a", "running", 100), 21000, State(120)));
            Assert.False(AutoKillPolicy.IsOrphan(Claimed("a", "exited", 120), 21000, State(120))); // kept with -KeepAllocation
        }

        [Fact]
        public void A_file_state_numbers_each_new_claim_above_every_earlier_one_and_leaves_untouched_records_as_they_were()
        {
            var state = new StateDocument { StateId = Fixtures.Mine };
            state.Allocations["legacy"] = new AllocationRecord { AppId = "legacy", Port = 21005 }; // 0.2.0: no claim
            var claims = FileClaims.Before(state);
            state.Allocations["a"] = new AllocationRecord { AppId = "a", Port = 21000 };
            claims.Stamp(state);
            Assert.Null(state.Allocations["legacy"].ClaimRevision);
            Assert.Equal(1, state.Allocations["a"].ClaimRevision);

            claims = FileClaims.Before(state);
            state.Allocations["a"] = new AllocationRecord { AppId = "a", Port = 21000, ContainerId = "c" }; // same claim, new object
            claims.Stamp(state);
            Assert.Equal(1, state.Allocations["a"].ClaimRevision);

            claims = FileClaims.Before(state);
            state.Allocations["a"] = new AllocationRecord { AppId = "a", Port = 21001 }; // moved: a new claim
            state.Allocations["legacy"].Provisional = true; // touched: numbered now
            claims.Stamp(state);
            Assert.True(state.Allocations["a"].ClaimRevision > 1);
            Assert.True(state.Allocations["legacy"].ClaimRevision > 1);
            Assert.NotEqual(state.Allocations["a"].ClaimRevision, state.Allocations["legacy"].ClaimRevision);
            Assert.Equal(3, state.ClaimSequence);
        }
    }
}
