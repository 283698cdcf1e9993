using System;
using DyadPorts.Core.Engines;
using DyadPorts.Core.State;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary>/proc/&lt;pid&gt;/stat's starttime (field 22), and the rule that tells a recorded preview process from a reused pid.</summary>
    public class ProcessStartTicksTests
    {
        [Theory]
        [InlineData("6167 (cat) R 6163 6163 10397 0 -1 4194304 98 0 0 0 0 0 0 0 20 0 1 0 69999 3133440 381 18446744073709551615 0 0", 69999L)]
        [InlineData("42 (my prog) S 1 42 42 0 -1 4194560 10 0 0 0 1 2 0 0 20 0 1 0 123456789 1000 10 18446744073709551615", 123456789L)]
        [InlineData("77 (a) (b) S 1 77 77 0 -1 4194560 10 0 0 0 1 2 0 0 20 0 1 0 555 1000 10", 555L)]
        [InlineData("78 ()) 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 ) S 1 78 78 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9001 1 1", 9001L)]
        [InlineData("79 (x) S 1 2 3", null)]
        [InlineData("no parenthesis at all", null)]
        [InlineData("", null)]
        [InlineData("80 (x) S 1 80 80 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -5 1 1", null)]
        public void Starttime_is_the_twentieth_field_after_the_last_parenthesis(string line, long? ticks) =>
            Assert.Equal(ticks, ProcessStartTicks.Parse(line));

        private static readonly DateTimeOffset Started = new DateTimeOffset(2026, 11, 27, 10, 15, 31, 623, TimeSpan.Zero);

        private static AllocationRecord Record(long? ticks) => new AllocationRecord { AppId = "a", Port = 1, ProcessId = 42, ProcessStartedAt = Started, ProcessStartTicks = ticks };

        [Fact]
        public void With_recorded_ticks_only_the_exact_ticks_match()
        {
            Assert.True(PreviewProcesses.SameStart(Record(5000), 5000, Started));
            Assert.True(PreviewProcesses.SameStart(Record(5000), 5000, Started.AddSeconds(30))); // the clock was set meanwhile
            Assert.False(PreviewProcesses.SameStart(Record(5000), 5001, Started)); // 10 ms apart: another process
            Assert.False(PreviewProcesses.SameStart(Record(5000), null, Started));
            Assert.False(PreviewProcesses.SameStart(Record(5000), 5000, Started.AddDays(1))); // another boot
        }

        [Fact]
        public void A_0_2_0_record_without_ticks_keeps_the_old_two_second_tolerance()
        {
            Assert.True(PreviewProcesses.SameStart(Record(null), 5000, Started.AddSeconds(1.5)));
            Assert.True(PreviewProcesses.SameStart(Record(null), null, Started.AddSeconds(-1.9)));
            Assert.False(PreviewProcesses.SameStart(Record(null), 5000, Started.AddSeconds(2.5)));
        }

        [Fact]
        public void A_record_without_a_start_time_never_matches()
        {
            var record = Record(5000);
            record.ProcessStartedAt = null;
            Assert.False(PreviewProcesses.SameStart(record, 5000, Started));
            Assert.False(PreviewProcesses.SameStart(Record(5000), 5000, null));
        }
    }
}
