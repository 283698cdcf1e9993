using System;
using System.Collections.Generic;
using System.Linq;
using DyadPorts.Core.Engines;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary>
    /// What a long-lived view keeps: the numbers of removed containers only while a look under way could still need them
    /// (<see cref="ViewMap.Prune"/>), and itself only while it is read (<see cref="ViewTiming.IsIdle"/>).
    /// </summary>
    public sealed class EngineViewKeepingTests
    {
        [Fact]
        public void Prune_lets_go_only_of_removed_containers_older_than_every_look_under_way()
        {
            var applied = new Dictionary<string, long>(StringComparer.Ordinal)
            {
                ["listed"] = 3, // in the map: always kept
                ["gone-early"] = 4, // removed before the oldest look under way: let go
                ["gone-at"] = 7, // the oldest look under way has this very number: kept (it may be that look's own)
                ["gone-late"] = 9, // removed after a look under way began: that look's answer must still be refused
                ["listed-late"] = 12,
            };
            var inMap = new HashSet<string> { "listed", "listed-late" };

            ViewMap.Prune(applied, inMap.Contains, oldestUnderWay: 7);

            Assert.Equal(new[] { "gone-at", "gone-late", "listed", "listed-late" }, applied.Keys.OrderBy(k => k, StringComparer.Ordinal));
            Assert.Equal(9, applied["gone-late"]);
        }

        [Fact]
        public void Prune_with_no_look_under_way_keeps_only_the_map()
        {
            var applied = new Dictionary<string, long>(StringComparer.Ordinal) { ["a"] = 1, ["b"] = 2, ["c"] = long.MaxValue - 1 };

            ViewMap.Prune(applied, id => id == "b", long.MaxValue);

            Assert.Equal(new[] { "b" }, applied.Keys);
        }

        [Theory]
        [InlineData(0, false)]
        [InlineData(599_999, false)]
        [InlineData(600_000, true)] // ten minutes unread
        [InlineData(86_400_000, true)]
        public void A_view_retires_once_unread_for_its_bound(int msSinceUse, bool idle)
        {
            Assert.Equal(TimeSpan.FromMinutes(10), ViewTiming.RetireAfter);
            Assert.Equal(idle, ViewTiming.IsIdle(TimeSpan.FromMilliseconds(msSinceUse), ViewTiming.RetireAfter));
        }
    }
}
