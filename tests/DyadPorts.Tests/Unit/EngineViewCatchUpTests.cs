using System;
using DyadPorts.Core.Engines;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary>How often a quiet stream's catch-up repeats: at every heartbeat while the view is read, every 10 s once nobody has read it for a while.</summary>
    public sealed class EngineViewCatchUpTests
    {
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
    }
}
