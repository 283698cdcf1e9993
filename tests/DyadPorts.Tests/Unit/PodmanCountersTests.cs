using System;
using DyadPorts.Core.Engines;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary>ContainerEngine's reading of podman's version: before 4.4 its network counters are swapped.</summary>
    public class PodmanCountersTests
    {
        [Theory]
        [InlineData("4.3.1", true)]
        [InlineData("4.3", true)]
        [InlineData("4.4.0", false)]
        [InlineData("5.0.2-dev", false)]
        [InlineData("", false)]
        public void Podman_before_4_4_swaps_rx_and_tx(string version, bool swaps) =>
            Assert.Equal(swaps, ContainerEngine.PodmanSwapsNetworkCounters(version));
    }
}
