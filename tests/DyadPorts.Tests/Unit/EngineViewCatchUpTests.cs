using System;
using DyadPorts.Core.Engines;
using DyadPorts;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary>How often a quiet stream's catch-up repeats: at every heartbeat while the view is read, every 10 s once nobody has read it for a while.</summary>
    public sealed class EngineViewCatchUpTests
    {
        [Theory]
        [InlineData(255, EngineKind.Docker, false)]
        [InlineData(256, EngineKind.Docker, true)] // as many as dockerd keeps: older ones may be gone
        [InlineData(300, EngineKind.Docker, true)]
        [InlineData(256, EngineKind.Auto, true)] // not known to be podman: may be dockerd
        [InlineData(256, EngineKind.Podman, false)] // podman reads its events file: no such limit
        [InlineData(5_000, EngineKind.Podman, false)]
        public void Only_a_catch_up_as_long_as_dockerds_buffer_is_distrusted(int returned, EngineKind kind, bool distrusted)
        {
            Assert.Equal(distrusted, ViewTiming.CatchUpMayHaveLost(returned, kind));
        }

        [Theory]
        [InlineData(null, null, 100)] // the first wait
        [InlineData(100, null, 200)] // never live: twice the last
        [InlineData(200, 4_999, 400)] // live, but not long: twice the last
        [InlineData(3_000, null, 5_000)] // capped
        [InlineData(5_000, 1_000, 5_000)]
        [InlineData(5_000, 5_000, 100)] // live a while: the waits start over
        [InlineData(400, 60_000, 100)]
        public void A_view_waits_longer_each_time_its_connection_ends_soon(int? lastMs, int? liveMs, int nextMs)
        {
            TimeSpan? last = lastMs is int l ? TimeSpan.FromMilliseconds(l) : null;
            TimeSpan? live = liveMs is int v ? TimeSpan.FromMilliseconds(v) : null;
            Assert.Equal(TimeSpan.FromMilliseconds(nextMs), ViewTiming.NextRetry(last, live));
        }

        [Theory]
        [InlineData(0)] // read just now
        [InlineData(1_500)] // read between two heartbeats
        [InlineData(29_999)] // read just inside the window
        public void A_view_read_lately_catches_up_at_every_heartbeat(int msSinceRead)
        {
            Assert.Equal(ViewTiming.ReadCatchUpRepeat, ViewTiming.CatchUpRepeat(TimeSpan.FromMilliseconds(msSinceRead)));
            // Due at every heartbeat: under its interval (a heartbeat's wait may end a little early), and not far under.
            Assert.InRange(ViewTiming.ReadCatchUpRepeat, ViewTiming.HeartbeatInterval * 0.5, ViewTiming.HeartbeatInterval - TimeSpan.FromMilliseconds(50));
        }

        [Theory]
        [InlineData(30_000)] // the window's end
        [InlineData(600_000)] // an idle session
        public void A_view_nobody_read_lately_catches_up_every_quiet_repeat(int msSinceRead)
        {
            Assert.Equal(TimeSpan.FromSeconds(30), ViewTiming.ReadRecently);
            Assert.Equal(TimeSpan.FromSeconds(10), ViewTiming.CatchUpRepeat(TimeSpan.FromMilliseconds(msSinceRead)));
        }

        [Theory]
        //           since heard, caught up this spell, since catch-up, repeat, due
        [InlineData(400, false, 5_000, 900, false)] // still busy: the quiet spell has not begun, the busy repeat not past
        [InlineData(500, false, 100, 900, true)] // the quiet spell's first catch-up, however recent the last one
        [InlineData(3_000, true, 800, 900, false)] // quiet, caught up, the repeat not yet past
        [InlineData(3_000, true, 900, 900, true)] // quiet, the repeat past
        [InlineData(30_000, true, 9_000, 10_000, false)] // an idle view's repeat
        [InlineData(100, true, 9_999, 900, false)] // busy: the read repeat does not apply
        [InlineData(100, true, 10_000, 900, true)] // busy for 10 s: a catch-up all the same
        [InlineData(100, false, 10_000, 10_000, true)]
        public void A_catch_up_is_due_in_a_quiet_spell_and_every_busy_repeat_while_the_stream_never_goes_quiet(int msSinceHeard, bool caughtUp, int msSinceCatchUp, int msRepeat, bool due)
        {
            Assert.Equal(TimeSpan.FromSeconds(10), ViewTiming.BusyCatchUpRepeat);
            Assert.Equal(due, ViewTiming.CatchUpDue(TimeSpan.FromMilliseconds(msSinceHeard), caughtUp, TimeSpan.FromMilliseconds(msSinceCatchUp), TimeSpan.FromMilliseconds(msRepeat)));
        }
    }
}
