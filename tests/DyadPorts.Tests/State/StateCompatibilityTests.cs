using System;
using System.IO;
using System.Linq;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.State;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.State
{
    /// <summary>A state file as 0.2.0 wrote it (Fixtures/0.2.0/state.json) means the same to this version, and what this version adds 0.2.0 ignores.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public class StateCompatibilityTests
    {
        private static readonly DateTimeOffset T0 = new DateTimeOffset(2026, 11, 27, 10, 15, 30, 123, TimeSpan.Zero);

        [Fact]
        public void A_0_2_0_state_file_is_read_unchanged_in_meaning()
        {
            using var temp = new TempState();
            File.Copy(Fixtures.PathOf("0.2.0", "state.json"), temp.StatePath);
            File.SetUnixFileMode(temp.StatePath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var log = new RecordingLog();
            var state = temp.Store.Read(_ => throw new InvalidOperationException("no rebuild expected"), log, default);
            Assert.Empty(log.Warnings);
            Assert.Equal(2, state.Version);
            Assert.Equal("0a1b2c3d4e5f6a7b", state.StateId);
            Assert.Equal(new[] { "api", "web-app" }, state.Allocations.Keys);

            var process = state.Allocations["web-app"];
            Assert.Equal((32100, EngineKind.Process, 4242), (process.Port, process.Engine, process.ProcessId.Value));
            Assert.Equal(T0, process.AllocatedAt);
            Assert.Equal(T0.AddSeconds(1.5), process.ProcessStartedAt);
            Assert.Null(process.ProcessStartTicks); // 0.2.0 had none: the old tolerance applies
            Assert.True(PreviewProcesses.SameStart(process, 123, T0.AddSeconds(2.5)));
            Assert.False(PreviewProcesses.SameStart(process, 123, T0.AddSeconds(4)));

            var container = state.Allocations["api"];
            Assert.Equal((32101, EngineKind.Docker, "unix:///run/docker.sock", "node:22-alpine"), (container.Port, container.Engine, container.EngineEndpoint, container.Image));
            Assert.StartsWith("0123456789abcdef", container.ContainerId);

            Assert.Equal(new[] { ("Allocated", 1L), ("Moved", 1L), ("PreviewStarted", 2L), ("PreviewStopped", 1L) }, state.Counters.Select(c => (c.Key, c.Value)));
            var sample = state.Activity["api"];
            Assert.Equal((T0.AddMinutes(3), "container 0123456789ab", "18446"), (sample.At, sample.Preview, sample.Value));
        }

        [Fact]
        public void This_versions_new_field_is_ignored_by_0_2_0s_reader_and_keeps_the_version()
        {
            // 0.2.0 parses with the same settings (MissingMemberHandling.Ignore) and CurrentVersion 2: adding
            // processStartTicks neither refuses the file nor loses anything else.
            using var temp = new TempState();
            temp.Store.Update(s =>
            {
                s.Allocations["p"] = new AllocationRecord { AppId = "p", Port = 21900, Engine = EngineKind.Process, ProcessId = 7, ProcessStartedAt = T0, ProcessStartTicks = 99 };
                return 0;
            }, _ => new StateDocument(), NullOperationLog.Instance, default);
            var text = File.ReadAllText(temp.StatePath);
            Assert.Contains("\"processStartTicks\": 99", text);
            Assert.Contains("\"version\": 2", text);
            // 0.2.0's Parse is this one without the property: an unknown member in a record is ignored, never a reason to drop it.
            var withUnknown = text.Replace("\"processStartTicks\": 99", "\"someLaterField\": 99");
            var asOld = StateStore.Parse(withUnknown, out var problem, out var dropped);
            Assert.Null(problem);
            Assert.Empty(dropped);
            Assert.Null(asOld.Allocations["p"].ProcessStartTicks);
            Assert.Equal((21900, 7, T0), (asOld.Allocations["p"].Port, asOld.Allocations["p"].ProcessId.Value, asOld.Allocations["p"].ProcessStartedAt.Value));
        }
        [Fact]
        public void A_reservations_provisional_flag_round_trips_in_a_file_and_a_file_without_it_reads_plain()
        {
            using var temp = new TempState();
            File.Copy(Fixtures.PathOf("0.2.0", "state.json"), temp.StatePath);
            File.SetUnixFileMode(temp.StatePath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var ledger = new DyadPorts.Core.Ledger.FileLedger(temp.Store, null);
            var state = ledger.Read(NullOperationLog.Instance, default);
            Assert.All(state.Allocations.Values, r => Assert.False(r.Provisional));

            ledger.Transact((s, _) => s.Allocations["api"].Provisional = true, NullOperationLog.Instance, default);
            Assert.Contains("\"provisional\": true", File.ReadAllText(temp.StatePath), StringComparison.Ordinal);
            state = ledger.Read(NullOperationLog.Instance, default);
            Assert.True(state.Allocations["api"].Provisional);
            Assert.False(state.Allocations["web-app"].Provisional);

            ledger.Transact((s, _) => s.Allocations["api"].Provisional = false, NullOperationLog.Instance, default);
            Assert.DoesNotContain("provisional", File.ReadAllText(temp.StatePath), StringComparison.Ordinal); // a plain record is written as before
            Assert.False(ledger.Read(NullOperationLog.Instance, default).Allocations["api"].Provisional);
        }
    }
}
