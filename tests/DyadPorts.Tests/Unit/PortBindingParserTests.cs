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

        [Theory]
        [InlineData("abc")]
        [InlineData("70000")]
        [InlineData("5-3")]
        [InlineData("1-2-3")]
        public void Unreadable_host_ports_hold_nothing(string text) => Assert.Empty(PortBindingParser.ParseHostPorts(text));
    }
}
