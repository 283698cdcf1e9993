using System.Collections.Generic;
using DyadPorts.Core.Engines;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    public class ContainerSummaryTests
    {
        [Fact]
        public void Describes_stopped_holders_differently_from_running_ones()
        {
            Assert.Equal("container dyad-app-56", new ContainerSummary { Name = "dyad-app-56", State = "running" }.Describe());
            Assert.Equal("container dyad-app-56 (exited)", new ContainerSummary { Name = "dyad-app-56", State = "exited" }.Describe());
        }

        [Fact]
        public void App_id_comes_only_from_the_DyadPorts_label_a_name_only_suggests_one()
        {
            var labelled = new ContainerSummary { Name = "whatever", Labels = new Dictionary<string, string> { [ContainerSummary.AppIdLabel] = "42", [ContainerSummary.ManagedLabel] = "true", [ContainerSummary.StateLabel] = "s1" } };
            Assert.Equal("42", labelled.AppId);
            Assert.Equal("s1", labelled.StateId);
            Assert.True(labelled.IsManaged);
            var named = new ContainerSummary { Name = "dyad-app-43" };
            Assert.Null(named.AppId);
            Assert.Equal("43", named.SuggestedAppId);
            Assert.False(named.IsManaged);
            var labelOnly = new ContainerSummary { Name = "x", Labels = new Dictionary<string, string> { [ContainerSummary.AppIdLabel] = "44" } };
            Assert.Null(labelOnly.AppId); // an app-id label without dyadports.managed=true is not DyadPorts'
        }

        [Fact]
        public void Its_tcp_host_ports_are_each_once_in_the_order_published_without_udp_or_unpublished_ones()
        {
            var c = new ContainerSummary
            {
                Ports = new[]
                {
                    new PublishedPort(32101, "0.0.0.0", 80, "tcp"),
                    new PublishedPort(32100, "0.0.0.0", 81, "tcp"),
                    new PublishedPort(32101, "::", 80, "tcp"),
                    new PublishedPort(32102, "0.0.0.0", 53, "udp"),
                    new PublishedPort(0, null, 8080, "tcp"),
                },
            };
            Assert.Equal(new[] { 32101, 32100 }, c.TcpHostPorts);
            Assert.Empty(new ContainerSummary().TcpHostPorts);
        }

        [Fact]
        public void Running_first_keeps_each_groups_order()
        {
            ContainerSummary C(string name, string state) => new ContainerSummary { Name = name, State = state };
            var all = new[] { C("a", "exited"), C("b", "running"), C("c", "created"), C("d", "running"), C("e", "exited") };
            Assert.Equal(new[] { "b", "d", "a", "c", "e" }, EngineSnapshot.RunningFirst(all).ConvertAll(c => c.Name));
            Assert.Empty(EngineSnapshot.RunningFirst(System.Array.Empty<ContainerSummary>()));
        }
    }
}
