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
            Assert.Equal(distrusted, EngineView.CatchUpMayHaveLost(returned, kind));
        }

        [Theory]
        [InlineData(0)] // read just now
        [InlineData(1_500)] // read between two heartbeats
        [InlineData(29_999)] // read just inside the window
        public void A_view_read_lately_catches_up_at_every_heartbeat(int msSinceRead)
        {
            Assert.Equal(EngineView.ReadCatchUpRepeat, EngineView.CatchUpRepeat(TimeSpan.FromMilliseconds(msSinceRead)));
            // Due at every heartbeat: under its interval (a heartbeat's wait may end a little early), and not far under.
            Assert.InRange(EngineView.ReadCatchUpRepeat, EngineView.HeartbeatInterval * 0.5, EngineView.HeartbeatInterval - TimeSpan.FromMilliseconds(50));
        }

        [Theory]
        [InlineData(30_000)] // the window's end
        [InlineData(600_000)] // an idle session
        public void A_view_nobody_read_lately_catches_up_every_quiet_repeat(int msSinceRead)
        {
            Assert.Equal(TimeSpan.FromSeconds(30), EngineView.ReadRecently);
            Assert.Equal(TimeSpan.FromSeconds(10), EngineView.CatchUpRepeat(TimeSpan.FromMilliseconds(msSinceRead)));
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
            Assert.Equal(TimeSpan.FromSeconds(10), EngineView.BusyCatchUpRepeat);
            Assert.Equal(due, EngineView.CatchUpDue(TimeSpan.FromMilliseconds(msSinceHeard), caughtUp, TimeSpan.FromMilliseconds(msSinceCatchUp), TimeSpan.FromMilliseconds(msRepeat)));
        }
    }
}
