using System.Linq;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Availability;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.State;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary>The fleet host identity: a machine's local engines and processes are machine:&lt;id&gt;, remote engines their host.</summary>
    public class MachineIdentityTests
    {
        private static readonly MachineIdentity Here = new MachineIdentity("aaaa1111");

        [Theory]
        [InlineData("unix:///run/docker.sock", "machine:aaaa1111")]
        [InlineData(null, "machine:aaaa1111")]
        [InlineData("tcp://127.0.0.1:2375", "machine:aaaa1111")]
        [InlineData("tcp://[::1]:2375", "machine:aaaa1111")]
        [InlineData("tcp://Build-Host.example:2376", "build-host.example")]
        public void An_endpoints_fleet_host_is_this_machine_for_local_engines_and_the_host_for_remote_ones(string endpoint, string host) =>
            Assert.Equal(host, Here.HostOf(endpoint));

        [Fact]
        public void A_record_without_a_host_is_this_machines_when_local_and_a_stored_host_wins()
        {
            Assert.Equal("machine:aaaa1111", Here.HostOf(new AllocationRecord { AppId = "old", EngineEndpoint = "unix:///run/podman/podman.sock" }));
            Assert.Equal("remote.example", Here.HostOf(new AllocationRecord { AppId = "old", EngineEndpoint = "tcp://remote.example:2376" }));
            Assert.Equal("machine:bbbb2222", Here.HostOf(new AllocationRecord { AppId = "new", EngineEndpoint = "unix:///run/docker.sock", Host = "machine:bbbb2222" }));
        }

        [Fact]
        public void Only_another_machines_local_host_is_another_machine()
        {
            Assert.Null(Here.OtherMachine(new AllocationRecord { AppId = "a" }));
            Assert.Null(Here.OtherMachine(new AllocationRecord { AppId = "a", Host = "machine:aaaa1111" }));
            Assert.Null(Here.OtherMachine(new AllocationRecord { AppId = "a", Host = "remote.example" }));
            Assert.Equal("bbbb2222", Here.OtherMachine(new AllocationRecord { AppId = "a", Host = "machine:bbbb2222" }));
        }

        [Fact]
        public void The_reconciler_gives_another_machines_records_Unknown_naming_the_machine_and_judges_its_own()
        {
            var state = Fixtures.State(("theirs", 21000, "c-theirs"), ("mine", 21001, null), ("old", 21002, null));
            state.Allocations["theirs"].Host = "machine:bbbb2222";
            state.Allocations["mine"].Host = "machine:aaaa1111";
            // Their container is not on this machine: an engine here would show it missing, and the record Stale.
            var occupancy = new Occupancy(EngineSnapshot.None, state, Fixtures.FreeHost.Instance, _ => false);

            var log = new RecordingLog();
            var result = new Reconciler(null, Here).Reconcile(state, occupancy, _ => true, log, null, default).ToDictionary(a => a.AppId);

            Assert.Equal(AllocationStatus.Unknown, result["theirs"].Status);
            Assert.Equal("machine:bbbb2222", result["theirs"].Host);
            Assert.Contains("machine bbbb2222", result["theirs"].HeldBy, System.StringComparison.Ordinal);
            Assert.Contains(log.Verbose, m => m.Contains("bbbb2222", System.StringComparison.Ordinal));
            Assert.Equal(AllocationStatus.Reserved, result["mine"].Status);
            Assert.Equal(AllocationStatus.Reserved, result["old"].Status); // a record of 0.3.0 (no host) is this machine's
        }

        [Fact]
        public void The_refusal_has_its_own_non_terminating_id()
        {
            Assert.False(ErrorIds.IsTerminating(ErrorIds.RecordOnOtherMachine));
            Assert.Contains(ErrorIds.RecordOnOtherMachine, ErrorIds.All);
        }
    }
}
