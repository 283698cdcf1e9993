using System;
using System.Diagnostics;
using Docker.DotNet.Models;
using DyadPorts.Core.Engines;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary>
    /// A catch-up proves only what it returned: the next asks from the newest event it returned, a catch-up that missed
    /// an event the connection knew was cut short and is owed again with a longer window, and what the stream delivered is
    /// not applied twice.
    /// </summary>
    public sealed class EventCoverageTests
    {
        private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

        private static long Nano(DateTimeOffset at) => at.ToUnixTimeMilliseconds() * 1_000_000;

        private static Message Event(string id, DateTimeOffset at, string action = "create") =>
            new Message { ID = id, Action = action, Status = action, Actor = new Actor { ID = id }, TimeNano = Nano(at) };

        [Theory]
        //          event (s after since), arrived before sent, returned, cut
        [InlineData(5.0, true, false, true)] // known, in the window, not returned: cut
        [InlineData(5.0, true, true, false)] // returned
        [InlineData(5.0, false, false, false)] // arrived after the catch-up was sent: maybe not in the file yet
        [InlineData(0.5, true, false, false)] // in since='s whole second: the engines differ on its edge
        [InlineData(1.0, true, false, true)] // just past it
        [InlineData(10.0, true, false, false)] // at until=: outside what was asked for
        [InlineData(9.9, true, false, true)] // just inside it
        public void A_catch_up_is_cut_when_it_misses_a_known_event_inside_what_it_asked_for(double secondsAfterSince, bool arrivedBefore, bool returned, bool cut)
        {
            var sinceNano = Start.ToUnixTimeSeconds() * 1_000_000_000L;
            var untilNano = Nano(Start.AddSeconds(10));
            const long sent = 1_000;
            var known = new[] { ((long)(sinceNano + secondsAfterSince * 1e9), arrivedBefore ? sent - 1 : sent + 1, returned) };
            Assert.Equal(cut, EventCoverage.WasCut(known, sinceNano, untilNano, sent));
        }

        [Fact]
        public void No_known_event_proves_no_cut()
        {
            Assert.False(EventCoverage.WasCut(Array.Empty<(long, long, bool)>(), 0, long.MaxValue, long.MaxValue));
        }

        [Fact]
        public void The_next_catch_up_asks_from_the_newest_event_returned_not_from_until()
        {
            var coverage = new EventCoverage(Start, ViewTiming.CatchUpWindow);
            var asked = coverage.Ask(Start.AddSeconds(-1), Start.AddSeconds(20));
            Assert.Equal(Start.AddSeconds(20) + ViewTiming.CatchUpWindow, asked.Until);
            Assert.True(coverage.Returned(asked, Event("a", Start.AddSeconds(3))));
            Assert.Equal(CatchUpVerdict.Whole, coverage.Finish(asked, readsFile: true));

            // Asked up to 20.25 s; returned up to 3 s. A podman that stopped reading at 3 s may have missed 3-20 s.
            Assert.True(DueNow(coverage, out var since));
            Assert.Equal(Start.AddSeconds(2), since);
        }

        [Fact]
        public void A_catch_up_that_returns_nothing_moves_coverage_nowhere()
        {
            var coverage = new EventCoverage(Start, ViewTiming.CatchUpWindow);
            var asked = coverage.Ask(Start.AddSeconds(-1), Start.AddSeconds(30));
            Assert.Equal(CatchUpVerdict.Whole, coverage.Finish(asked, readsFile: true));
            Assert.True(DueNow(coverage, out var since));
            Assert.Equal(Start.AddSeconds(-1), since);
        }

        [Fact]
        public void A_catch_up_that_misses_an_event_the_stream_delivered_is_owed_again_at_once_with_a_longer_window()
        {
            var coverage = new EventCoverage(Start, ViewTiming.CatchUpWindow);
            coverage.Heard(Event("heard", Start.AddSeconds(4)));
            var asked = coverage.Ask(Start.AddSeconds(-1), Start.AddSeconds(6));
            Assert.True(coverage.Returned(asked, Event("older", Start.AddSeconds(2)))); // the read stopped before "heard"
            Assert.Equal(CatchUpVerdict.Cut, coverage.Finish(asked, readsFile: true));

            // Owed: due at the next heartbeat though the stream was heard just now and the last catch-up was just now.
            Assert.True(coverage.DueForCatchUp(TimeSpan.FromHours(1), out var since));
            Assert.Equal(Start.AddSeconds(1), since);
            coverage.Heard(Event("busy", Start.AddSeconds(5))); // still busy: only the debt made it due
            Assert.False(coverage.DueForCatchUp(TimeSpan.FromHours(1), out _));

            Assert.Equal(ViewTiming.CatchUpWindow * 2, coverage.Window);
            var again = coverage.Ask(since, Start.AddSeconds(7));
            Assert.Equal(Start.AddSeconds(7) + ViewTiming.CatchUpWindow * 2, again.Until);
            Assert.False(coverage.Returned(again, Event("older", Start.AddSeconds(2)))); // known: not applied twice
            Assert.False(coverage.Returned(again, Event("heard", Start.AddSeconds(4)))); // the stream's: not applied twice
            Assert.False(coverage.Returned(again, Event("busy", Start.AddSeconds(5))));
            Assert.True(coverage.Returned(again, Event("dropped", Start.AddSeconds(5)))); // what the stream never delivered
            Assert.Equal(4, again.Count);
            Assert.Equal(CatchUpVerdict.Whole, coverage.Finish(again, readsFile: true));
        }

        [Theory]
        //          window ms, cut, returned, last arrival ms, next ms
        [InlineData(250, true, 3, 250, 500)] // cut: twice as long
        [InlineData(1000, true, 0, 0, 2000)]
        [InlineData(2000, true, 0, 0, 2000)] // no longer than the longest
        [InlineData(250, false, 0, 0, 500)] // nothing returned: a cut cannot be told from a quiet spell
        [InlineData(500, false, 0, 0, 1000)]
        [InlineData(1000, false, 0, 0, 1000)] // ... up to a second
        [InlineData(2000, false, 0, 0, 2000)] // ... and no shorter than a cut made it
        [InlineData(1000, false, 40, 600, 1200)] // twice the read
        [InlineData(2000, false, 40, 30, 250)] // a fast read narrows a wide window again, to the first
        [InlineData(250, false, 40, 1900, 2000)]
        public void A_podman_window_follows_how_long_its_reads_take(int windowMs, bool cut, int returned, int lastArrivalMs, int nextMs)
        {
            Assert.Equal(TimeSpan.FromMilliseconds(250), ViewTiming.CatchUpWindow);
            Assert.Equal(TimeSpan.FromSeconds(2), EventCoverage.WindowMost);
            Assert.Equal(TimeSpan.FromSeconds(1), EventCoverage.WindowUnjudgedMost);
            Assert.Equal(TimeSpan.FromMilliseconds(nextMs), EventCoverage.NextWindow(TimeSpan.FromMilliseconds(windowMs), cut, returned, TimeSpan.FromMilliseconds(lastArrivalMs)));
        }

        [Theory]
        [InlineData(true)] // podman: asked again, with a longer window, until the longest
        [InlineData(false)] // dockerd answers from memory: a cut means its buffer lost events, and the view lists again
        public void A_cut_is_untrusted_on_dockerd_and_at_the_longest_window(bool readsFile)
        {
            var coverage = new EventCoverage(Start, ViewTiming.CatchUpWindow);
            coverage.Heard(Event("heard", Start.AddSeconds(4)));
            var cuts = 0;
            CatchUpVerdict verdict;
            while ((verdict = coverage.Finish(coverage.Ask(Start.AddSeconds(-1), Start.AddSeconds(6)), readsFile)) == CatchUpVerdict.Cut)
            {
                Assert.True(++cuts < 10, "cut catch-ups are asked again without end");
            }
            Assert.Equal(CatchUpVerdict.Untrusted, verdict);
            Assert.Equal(readsFile ? 3 : 0, cuts); // 250 ms, 0.5, 1 s; then cut at 2 s
            Assert.Equal(readsFile ? EventCoverage.WindowMost : ViewTiming.CatchUpWindow, coverage.Window);
        }

        [Fact]
        public void A_whole_catch_up_is_not_owed_again()
        {
            var coverage = new EventCoverage(Start, ViewTiming.CatchUpWindow);
            coverage.Heard(Event("heard", Start.AddSeconds(4)));
            var asked = coverage.Ask(Start.AddSeconds(-1), Start.AddSeconds(6));
            Assert.False(coverage.Returned(asked, Event("heard", Start.AddSeconds(4))));
            Assert.Equal(CatchUpVerdict.Whole, coverage.Finish(asked, readsFile: true));
            // Heard just now and caught up just now: nothing due within the busy repeat.
            coverage.Heard(Event("busy", Start.AddSeconds(5)));
            Assert.False(coverage.DueForCatchUp(TimeSpan.FromHours(1), out _));
        }

        /// <summary>Due now as a quiet spell's first catch-up would be (the stream quiet long enough), with its since=.</summary>
        private static bool DueNow(EventCoverage coverage, out DateTimeOffset since)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < ViewTiming.QuietBeforeCatchUp + TimeSpan.FromSeconds(1))
            {
                if (coverage.DueForCatchUp(TimeSpan.Zero, out since)) return true;
                System.Threading.Thread.Sleep(20);
            }
            since = default;
            return false;
        }
    }
}
