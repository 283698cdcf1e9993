using System.Linq;
using DyadPorts.Core.Engines;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary>
    /// The engine view's map (<see cref="ViewMap"/>): what a look at the engine said is kept only if no look that started
    /// later is in. Inspects answer out of order, so this is the rule that keeps a stale answer out of the view.
    /// </summary>
    public sealed class ViewMapTests
    {
        private static ContainerSummary Container(string id, string state = "running") => new ContainerSummary { Id = id, Name = id, State = state };

        private static string[] Ids(ViewMap map) => map.ToSnapshot().Containers.Select(c => c.Id).OrderBy(i => i, System.StringComparer.Ordinal).ToArray();

        private static string StateOf(ViewMap map, string id) => map.ToSnapshot().Containers.Single(c => c.Id == id).State;

        [Fact]
        public void A_list_replaces_the_map_and_a_look_that_began_before_it_is_refused()
        {
            var map = new ViewMap(ViewMap.RemovalsKept);
            map.Listed(map.Begin(), new[] { Container("old"), Container("a") });
            map.BeginLook(new ContainerEvent("old", "start", "old")); // due, and binds: overdue at once
            var early = map.Begin();
            var list = map.Begin();
            map.Listed(list, new[] { Container("a"), Container("b") });
            map.Ended(early);

            Assert.False(map.Take("c", early, Container("c")));
            Assert.Equal(new[] { "a", "b" }, Ids(map));
            Assert.False(map.LookOverdue(System.TimeSpan.FromTicks(-1)), "the list ends every look due before it");
            Assert.Equal(1, map.UnderWay); // the look of 'old' (ended by its caller once it answers)
        }

        /// <summary>
        /// A look is due since its event arrived, not since it began: events that waited for a list (seconds, with a thousand
        /// containers on podman) count against the freshness bound from their arrival, and a later event of the same
        /// container keeps the older due time (found by an independent review: the view had answered without such a container).
        /// </summary>
        [Fact]
        public void A_look_is_due_since_its_event_arrived_and_a_later_event_keeps_the_older_time()
        {
            var bound = System.TimeSpan.FromSeconds(1);
            var waited = new ViewMap(ViewMap.RemovalsKept);
            waited.Listed(waited.Begin(), new[] { Container("a") });
            var arrived = System.Diagnostics.Stopwatch.GetTimestamp() - 2 * System.Diagnostics.Stopwatch.Frequency; // 2 s ago, held up by a list
            waited.BeginLook(new ContainerEvent("new", "create", "new"), arrived);
            Assert.True(waited.LookOverdue(bound), "a create that waited 2 s for a list is past a 1 s bound at once");
            waited.BeginLook(new ContainerEvent("new", "start", "new"), System.Diagnostics.Stopwatch.GetTimestamp());
            Assert.True(waited.LookOverdue(bound), "a later event of the container keeps its oldest due time");

            var fresh = new ViewMap(ViewMap.RemovalsKept);
            fresh.Listed(fresh.Begin(), new[] { Container("a") });
            fresh.BeginLook(new ContainerEvent("new", "create", "new"));
            Assert.False(fresh.LookOverdue(bound), "a look begun as its event arrives is due from now");
        }

        [Fact]
        public void Of_two_inspects_that_answer_out_of_order_the_later_started_wins()
        {
            var map = new ViewMap(ViewMap.RemovalsKept);
            map.Listed(map.Begin(), new[] { Container("a", "created") });
            var first = map.BeginLook(new ContainerEvent("a", "start", "a"));
            var second = map.BeginLook(new ContainerEvent("a", "die", "a"));

            map.Ended(second);
            Assert.True(map.Take("a", second, Container("a", "exited")));
            map.Ended(first);
            Assert.False(map.Take("a", first, Container("a", "running")));

            Assert.Equal("exited", StateOf(map, "a"));
        }

        [Fact]
        public void A_removal_by_the_process_refuses_an_inspect_that_began_before_it()
        {
            var map = new ViewMap(ViewMap.RemovalsKept);
            map.Listed(map.Begin(), new[] { Container("a") });
            var look = map.BeginLook(new ContainerEvent("a", "start", "a"));

            Assert.True(map.Removed("a", live: true));
            map.Ended(look);
            Assert.False(map.Take("a", look, Container("a")));

            Assert.Empty(Ids(map));
        }

        [Fact]
        public void A_removal_made_while_a_list_was_under_way_stays_removed_after_it()
        {
            var map = new ViewMap(ViewMap.RemovalsKept);
            var list = map.Begin();
            map.Removed("b", live: false);
            map.Listed(list, new[] { Container("a"), Container("b") }); // the list began before the removal

            Assert.Equal(new[] { "a" }, Ids(map));
        }

        [Fact]
        public void A_created_container_is_overdue_once_its_inspect_waited_past_the_bound_and_not_after_its_answer()
        {
            var map = new ViewMap(ViewMap.RemovalsKept);
            map.Listed(map.Begin(), System.Array.Empty<ContainerSummary>());
            var look = map.BeginLook(new ContainerEvent("new", "create", "new"));
            var justNow = System.TimeSpan.FromTicks(-1); // any wait at all is past it

            Assert.True(map.LookOverdue(justNow));
            Assert.False(map.LookOverdue(System.TimeSpan.FromHours(1)));

            map.Ended(look);
            Assert.False(map.Take("new", look, null)); // gone before its inspect: still not in the map
            Assert.False(map.LookOverdue(justNow), "its answer ends the wait, though the map does not hold it");
        }

        [Fact]
        public void A_started_container_is_overdue_until_its_inspect_answers_though_the_map_holds_it()
        {
            var map = new ViewMap(ViewMap.RemovalsKept);
            map.Listed(map.Begin(), new[] { Container("a", "created") });
            var look = map.BeginLook(new ContainerEvent("a", "start", "a"));
            var justNow = System.TimeSpan.FromTicks(-1);

            Assert.True(map.LookOverdue(justNow)); // a start may bind host ports the map does not show yet

            map.Ended(look);
            Assert.True(map.Take("a", look, Container("a", "running")));
            Assert.False(map.LookOverdue(justNow));
            Assert.Equal("running", StateOf(map, "a"));
        }

        [Fact]
        public void An_event_of_a_container_with_a_look_under_way_looks_again_instead_of_applying_in_place()
        {
            var map = new ViewMap(ViewMap.RemovalsKept);
            map.Listed(map.Begin(), new[] { Container("a") });
            var rename = new ContainerEvent("a", "rename", "a2");

            Assert.True(map.TryApplyInPlace(rename, out var changed)); // no look under way: applied in place
            Assert.True(changed);

            map.BeginLook(new ContainerEvent("a", "start", "a2"));
            Assert.False(map.TryApplyInPlace(new ContainerEvent("a", "rename", "a3"), out changed));
            Assert.False(changed);

            Assert.True(map.TryApplyInPlace(new ContainerEvent("a", "destroy", "a3"), out changed)); // a removal is final
            Assert.True(changed);
            Assert.Empty(Ids(map));
        }

        [Fact]
        public void The_numbers_of_removed_containers_are_kept_while_a_look_needs_them_and_let_go_past_the_bound_after()
        {
            var map = new ViewMap(removalsKept: 2);
            map.Listed(map.Begin(), Enumerable.Range(0, 8).Select(i => Container("c" + i)).ToArray());
            var look = map.BeginLook(new ContainerEvent("c0", "start", "c0")); // under way through the first removals
            for (var i = 0; i < 5; i++) map.Removed("c" + i, live: true);

            Assert.Equal(8, map.Remembered); // every removal is newer than the look: none may be let go
            map.Ended(look);
            Assert.False(map.Take("c0", look, Container("c0")), "the removal that followed the look's start refuses it");

            for (var i = 5; i < 8; i++) map.Removed("c" + i, live: true);
            Assert.Empty(Ids(map));
            Assert.Equal(2, map.Remembered); // with no look under way, past 2 kept, the older removals go
        }

        [Fact]
        public void A_bound_below_none_is_refused()
        {
            Assert.Throws<System.ArgumentOutOfRangeException>(() => new ViewMap(-1));
        }
    }
}
