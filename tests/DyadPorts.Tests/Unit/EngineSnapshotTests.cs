using Docker.DotNet.Models;
using DyadPorts.Core.Engines;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    public class EngineSnapshotTests
    {
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
    }
}
