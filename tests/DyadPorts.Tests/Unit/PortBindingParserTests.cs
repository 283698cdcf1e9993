using System.Collections.Generic;
using System.Linq;
using Docker.DotNet.Models;
using DyadPorts.Core.Engines;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    public class PortBindingParserTests
    {
        [Fact]
        public void Podman_list_entry_without_ip_is_a_wildcard_binding()
        {
            var ports = PortBindingParser.FromList(new[] { new Port { PrivatePort = 32100, PublicPort = 32100, Type = "tcp" } });
            var p = Assert.Single(ports);
            Assert.Equal(32100, p.HostPort);
            Assert.Null(p.HostIp);
            Assert.True(p.IsTcp);
        }

        [Fact]
        public void Docker_lists_v4_and_v6_entries_which_collapse_to_one_port()
        {
            var ports = PortBindingParser.FromList(new[]
            {
                new Port { IP = "0.0.0.0", PrivatePort = 80, PublicPort = 32101, Type = "tcp" },
                new Port { IP = "::", PrivatePort = 80, PublicPort = 32101, Type = "tcp" },
            });
            Assert.Single(ports);
            Assert.Equal(32101, ports[0].HostPort);
        }

        [Fact]
        public void Exposed_but_unpublished_ports_hold_nothing()
        {
            Assert.Empty(PortBindingParser.FromList(new[] { new Port { PrivatePort = 8080, PublicPort = 0, Type = "tcp" } }));
            Assert.Empty(PortBindingParser.FromList(null));
        }

        [Fact]
        public void Specific_ip_bindings_are_kept_with_their_address()
        {
            var ports = PortBindingParser.FromList(new[] { new Port { IP = "127.0.0.1", PrivatePort = 32102, PublicPort = 32102, Type = "tcp" } });
            Assert.Equal("127.0.0.1", ports.Single().HostIp);
        }

        [Fact]
        public void Inspect_port_bindings_of_a_stopped_container_are_read_as_integers()
        {
            var bindings = new Dictionary<string, IList<PortBinding>>
            {
                ["32100/tcp"] = new List<PortBinding> { new PortBinding { HostIP = "", HostPort = "32100" } },
                ["53/udp"] = new List<PortBinding> { new PortBinding { HostPort = "32105" } },
                ["9000"] = new List<PortBinding> { new PortBinding { HostPort = "32110-32112" } },
                ["8080/tcp"] = new List<PortBinding> { new PortBinding { HostPort = "" } },
                ["7000/tcp"] = null,
            };
            var ports = PortBindingParser.FromPortBindings(bindings);
            Assert.Equal(new[] { 32100, 32110, 32111, 32112 }, ports.Where(p => p.IsTcp).Select(p => p.HostPort).OrderBy(p => p));
            Assert.Equal(32105, ports.Single(p => !p.IsTcp).HostPort);
        }

        [Fact]
        public void The_substring_trap_does_not_spring_port_3210_is_not_32100()
        {
            var snapshot = new EngineSnapshot(new[]
            {
                new ContainerSummary { Id = "a", Name = "other", State = "running", Ports = PortBindingParser.FromList(new[] { new Port { PrivatePort = 3210, PublicPort = 3210, Type = "tcp" } }) },
            });
            Assert.Empty(snapshot.OnHostPort(32100));
            Assert.Single(snapshot.OnHostPort(3210));
        }

        [Theory]
        [InlineData("abc")]
        [InlineData("70000")]
        [InlineData("5-3")]
        [InlineData("1-2-3")]
        public void Unreadable_host_ports_hold_nothing(string text) => Assert.Empty(PortBindingParser.ParseHostPorts(text));

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
    }
}
