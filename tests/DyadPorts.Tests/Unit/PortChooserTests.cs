using System;
using System.Collections.Generic;
using System.Linq;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Availability;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    public class PortChooserTests
    {
        private static readonly PortRange Range = new PortRange(32100, 32104);

        private static Func<int, PortHolder> Held(params int[] ports) =>
            p => ports.Contains(p) ? PortHolder.ForHost(() => $"host process on {p}") : null;

        [Fact]
        public void Takes_the_first_free_port_of_the_range_in_order()
        {
            var choice = PortChooser.Choose(new PortRequest { AppId = "58", Range = Range }, Held(32100, 32101));
            Assert.Equal(32102, choice.Port);
            Assert.Equal(ChoiceReason.Scanned, choice.Reason);
            Assert.Null(choice.Dropped);
        }

        [Fact]
        public void Reuses_a_current_port_that_is_still_free_even_above_lower_free_ports()
        {
            var choice = PortChooser.Choose(new PortRequest { AppId = "57", Range = Range, CurrentPort = 32103 }, Held());
            Assert.Equal(32103, choice.Port);
            Assert.Equal(ChoiceReason.Reused, choice.Reason);
        }

        [Fact]
        public void The_seeds_bug_a_current_port_held_by_someone_else_is_dropped_with_the_holder_named()
        {
            Func<int, PortHolder> holder = p => p == 32100 ? PortHolder.ForContainer(new ContainerSummary { Name = "dyad-app-56", State = "running" }) : null;
            var choice = PortChooser.Choose(new PortRequest { AppId = "57", Range = Range, CurrentPort = 32100 }, holder);
            Assert.Equal(32101, choice.Port);
            Assert.Contains("container dyad-app-56", choice.Dropped);
        }

        [Fact]
        public void Force_rescans_from_the_start_instead_of_keeping_the_current_port()
        {
            var choice = PortChooser.Choose(new PortRequest { AppId = "57", Range = Range, CurrentPort = 32103, Force = true }, Held());
            Assert.Equal(32100, choice.Port);
        }

        [Fact]
        public void The_apps_own_running_container_keeps_its_port_even_with_force()
        {
            var choice = PortChooser.Choose(new PortRequest { AppId = "57", Range = Range, CurrentPort = 32100, OwnLivePort = 32101, Force = true }, Held());
            Assert.Equal(32101, choice.Port);
            Assert.Equal(ChoiceReason.OwnContainer, choice.Reason);
        }

        [Fact]
        public void Ports_lost_to_a_race_are_skipped()
        {
            var choice = PortChooser.Choose(new PortRequest { AppId = "57", Range = Range, Excluded = new HashSet<int> { 32100, 32101 } }, Held());
            Assert.Equal(32102, choice.Port);
        }

        [Fact]
        public void A_current_port_outside_the_range_is_dropped()
        {
            var choice = PortChooser.Choose(new PortRequest { AppId = "57", Range = Range, CurrentPort = 40000 }, Held());
            Assert.Equal(32100, choice.Port);
            Assert.Contains("outside the range", choice.Dropped);
        }

        [Fact]
        public void Exhaustion_targets_the_app_and_names_the_range_the_counts_and_what_to_do()
        {
            Func<int, PortHolder> holder = p => p == 32100 ? PortHolder.ForAllocation("1")
                : p == 32101 ? PortHolder.ForContainer(new ContainerSummary { Name = "x", State = "exited" })
                : PortHolder.ForHost(() => "host");
            var e = Assert.Throws<DyadPortsException>(() => PortChooser.Choose(new PortRequest { AppId = "9", Range = Range }, holder));
            Assert.Equal(ErrorIds.PortRangeExhausted, e.ErrorId);
            Assert.Equal(FailureCategory.ResourceUnavailable, e.Category);
            Assert.Equal("9", e.Target);
            Assert.Contains("32100-32104", e.Message);
            Assert.Contains("checked 5 port(s)", e.Message);
            Assert.Contains("1 by other apps' allocations, 1 by containers, 3 by host processes", e.Message);
            Assert.Contains("Remove-DyadPortAllocation", e.Message);
        }

        [Fact]
        public void Without_a_trace_held_ports_are_passed_over_without_describing_their_holders()
        {
            var described = 0;
            var choice = PortChooser.Choose(new PortRequest { AppId = "1", Range = Range },
                p => p < 32102 ? PortHolder.ForHost(() => { described++; return "h"; }) : null);
            Assert.Equal(32102, choice.Port);
            Assert.Equal(0, described);
            var traced = new List<string>();
            PortChooser.Choose(new PortRequest { AppId = "1", Range = Range }, p => p < 32102 ? PortHolder.ForHost(() => { described++; return "h"; }) : null, traced.Add);
            Assert.Equal(2, described);
            Assert.Contains("Port 32100: held by h.", traced);
        }

        [Fact]
        public void Asks_about_each_port_at_most_once_and_stops_at_the_first_free_one()
        {
            var asked = new List<int>();
            PortChooser.Choose(new PortRequest { AppId = "1", Range = new PortRange(32100, 32200) }, p => { asked.Add(p); return p < 32103 ? PortHolder.ForHost(() => "h") : null; });
            Assert.Equal(new[] { 32100, 32101, 32102, 32103 }, asked);
        }
    }
}
