using System;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Ledger;
using DyadPorts.Core.Previews;
using DyadPorts.Core.State;
using DyadPorts.Fleet;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>
    /// Containers carry their claim (dyadports.claim: on etcd the create revision of the app's port claim key), so a stale
    /// claimant is told apart: a start's container whose claim was lost, and whose app was claimed again on the same port
    /// since (by another operator that did not see it), is a Conflict naming it, not Active; Stop-DyadPreview does not stop
    /// it as the app's preview; the next start adopts it under the current claim. Real dockerd and podman, the shared etcd
    /// cluster; ports 28420-28439.
    /// </summary>
    [Collection(EngineCollection.Name)]
    public sealed class StaleClaimantFleetEngineTests : IDisposable
    {
        private readonly EngineFixture _engines;
        private readonly PreviewScenario _scenario = new PreviewScenario("stale claimant");

        public StaleClaimantFleetEngineTests(EngineFixture engines)
        {
            _engines = engines;
        }

        public void Dispose()
        {
            _scenario.Dispose();
        }

        /// <summary>The row's ledger, without recovery: what the test reads and forges.</summary>
        private IAllocationLedger Ledger => _scenario.State.Ledger((IStateRecovery)null);

        [Theory]
        [MemberData(nameof(EngineCase.Fleet), MemberType = typeof(EngineCase))]
        public void A_container_of_a_lost_claim_is_told_apart_from_the_apps_current_claim(string row)
        {
            var engine = _scenario.Use(row);
            var name = engine.Name;
            engine.CleanUp();
            var first = name == "docker" ? 28420 : 28430;
            var appId = TestRun.App("stale-" + name);
            var allocator = _scenario.Allocator(engine);
            var started = new PreviewLauncher(allocator).Start(_scenario.Request(appId, engine, first, first + 9), NullOperationLog.Instance, default);
            var claim = Ledger.Read(NullOperationLog.Instance, default).Allocations[appId].ClaimRevision;
            Assert.NotNull(claim);
            var container = engine.Find("dyad-app-" + appId);
            Assert.Equal(claim.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), container.Labels[ContainerSummary.ClaimLabel]); // the container carries its claim
            Assert.Equal(AllocationStatus.Active, Assert.Single(allocator.Get(id => id == appId, NullOperationLog.Instance, default)).Status);

            // The claim is lost (as when the start's lease expired), and another operator claims the same port for the app
            // without seeing the container: a new claim key, a later revision, a record that names no container.
            Ledger.Transact((s, _) => s.Allocations.Remove(appId), NullOperationLog.Instance, default);
            Ledger.Transact((s, _) => s.Allocations[appId] = new AllocationRecord
            {
                AppId = appId, Port = started.Port, Engine = engine.Kind, EngineEndpoint = engine.Engine.Endpoint, AllocatedAt = DateTimeOffset.UtcNow, Host = MachineIdentity.Current.LocalHost,
            }, NullOperationLog.Instance, default);
            var newClaim = Ledger.Read(NullOperationLog.Instance, default).Allocations[appId].ClaimRevision;
            Assert.True(newClaim > claim);

            // Told apart: a Conflict naming the stale claimant, not Active.
            var seen = Assert.Single(allocator.Get(id => id == appId, NullOperationLog.Instance, default));
            Assert.Equal(AllocationStatus.Conflict, seen.Status);
            Assert.Contains("stale claimant", seen.HeldBy, StringComparison.Ordinal);

            // Stop-DyadPreview -KeepAllocation does not stop it as if it were the app's preview.
            new PreviewLauncher(allocator).Stop(appId, remove: false, keepAllocation: true, NullOperationLog.Instance, default);
            Assert.Equal("running", engine.Find("dyad-app-" + appId).State);

            // The next start (which holds the app's lock) adopts it under the current claim: Active again, the same container.
            var again = new PreviewLauncher(allocator).Start(_scenario.Request(appId, engine, first, first + 9), NullOperationLog.Instance, default);
            Assert.Equal(container.ID, again.ContainerId);
            var record = Ledger.Read(NullOperationLog.Instance, default).Allocations[appId];
            Assert.Equal(container.ID, record.ContainerId);
            Assert.Equal(newClaim, record.ClaimRevision);
            Assert.Equal(AllocationStatus.Active, Assert.Single(allocator.Get(id => id == appId, NullOperationLog.Instance, default)).Status);
        }
    }
}
