using System;
using DyadPorts.Core.Engines;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary>The engine's clock from one answer of its own, and an event that shows that clock has moved ahead.</summary>
    public sealed class EngineClockTests
    {
        private static readonly DateTimeOffset Asked = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

        [Theory]
        [InlineData(0, 0, 0)] // in step, an instant answer
        [InlineData(100, 50, 0)] // in step: said halfway through a 100 ms answer
        [InlineData(100, -59_950, -60_000)] // a minute behind
        [InlineData(2_000, 91_000, 90_000)] // 90 s ahead, a slow answer
        public void The_offset_takes_the_engines_time_as_said_halfway_through_its_answer(int answerMs, int saidAfterAskedMs, int offsetMs)
        {
            var offset = EngineClock.OffsetOf(Asked, Asked.AddMilliseconds(saidAfterAskedMs), Asked.AddMilliseconds(answerMs));
            Assert.Equal(TimeSpan.FromMilliseconds(offsetMs), offset);
        }

        [Fact]
        public void The_engines_system_time_is_read_to_the_nearest_tick_from_its_nanoseconds()
        {
            Assert.Equal(new DateTimeOffset(2026, 11, 30, 23, 23, 21, TimeSpan.Zero).AddTicks(1_504_492), EngineClock.ParseSystemTime("2026-11-30T23:23:21.150449163Z"));
            Assert.Equal(new DateTimeOffset(2026, 11, 30, 23, 23, 21, TimeSpan.FromHours(1)), EngineClock.ParseSystemTime("2026-11-30T23:23:21+01:00"));
        }

        [Theory]
        [InlineData(null)]
        [InlineData("")]
        [InlineData("yesterday")]
        public void No_time_is_read_from_an_answer_without_one(string said) => Assert.Null(EngineClock.ParseSystemTime(said));

        [Fact]
        public void Now_is_this_machines_time_plus_the_offset()
        {
            var local = new ShiftedTime(TimeSpan.FromMinutes(5));
            var clock = new EngineClock(local, TimeSpan.FromSeconds(-30), TimeSpan.Zero);
            var expected = DateTimeOffset.UtcNow + TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(30);
            Assert.InRange(clock.Now - expected, TimeSpan.FromSeconds(-1), TimeSpan.FromSeconds(1));
        }

        [Fact]
        public void Only_an_event_further_ahead_than_the_tolerance_shows_the_engines_clock_moved_ahead()
        {
            var clock = new EngineClock(TimeProvider.System, TimeSpan.Zero, TimeSpan.Zero);
            Assert.True(clock.IsAhead(Nanos(DateTimeOffset.UtcNow + EngineClock.Tolerance + TimeSpan.FromSeconds(3))));
            Assert.False(clock.IsAhead(Nanos(DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(500))), "an event just now, as delivered");
            Assert.False(clock.IsAhead(Nanos(DateTimeOffset.UtcNow - TimeSpan.FromMinutes(10))), "a late event lies behind");
            Assert.False(clock.IsAhead(0), "an event without a time");
        }

        [Fact]
        public void An_uncertain_reading_allows_for_its_uncertainty_and_an_unknown_one_judges_nothing_ahead()
        {
            var ahead = Nanos(DateTimeOffset.UtcNow + EngineClock.Tolerance + TimeSpan.FromSeconds(3));
            Assert.False(new EngineClock(TimeProvider.System, TimeSpan.Zero, TimeSpan.FromSeconds(5)).IsAhead(ahead), "within the reading's own uncertainty");
            Assert.True(new EngineClock(TimeProvider.System, TimeSpan.Zero, TimeSpan.FromSeconds(1)).IsAhead(ahead));
            var unknown = EngineClock.Unknown(TimeProvider.System);
            Assert.False(unknown.Known);
            Assert.Equal(TimeSpan.Zero, unknown.Offset);
            Assert.False(unknown.IsAhead(Nanos(DateTimeOffset.UtcNow + TimeSpan.FromHours(1))), "an engine that did not say its time: ahead of nothing");
        }

        private static long Nanos(DateTimeOffset t) => t.ToUnixTimeMilliseconds() * 1_000_000;
    }
}
