using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using DyadPorts.Core.Availability;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Availability
{
    /// <summary>The three host probe strategies against real listeners (how one is chosen: Unit/HostProbesTests). Ports 21800-21819.</summary>
    [Collection(HostListenerCollection.Name)]
    public class HostProbeStrategyTests
    {
        [Fact]
        public void A_table_probe_reads_the_table_once_per_allocation()
        {
            var reads = 0;
            var probe = new TableHostPortProbe(() => { reads++; return new ListenerTable(new[] { new IPEndPoint(IPAddress.Loopback, 21801) }); });
            Assert.Equal(0, probe.Reads);
            Assert.False(probe.IsFree(21801));
            for (var p = 21802; p < 21819; p++) Assert.True(probe.IsFree(p));
            Assert.Equal("host process listening on 127.0.0.1:21801", probe.DescribeHolder(21801)); // nothing really listens there: no owner to name
            Assert.Equal(1, reads);
        }

        [Theory]
        [InlineData("bind", "0.0.0.0", 21803)]
        [InlineData("bind", "127.0.0.1", 21804)]
        [InlineData("bind", "::", 21805)]
        [InlineData("bind", "::1", 21806)]
        [InlineData("strict", "0.0.0.0", 21807)]
        [InlineData("strict", "127.0.0.1", 21808)]
        [InlineData("strict", "::", 21809)]
        [InlineData("strict", "::1", 21810)]
        [InlineData("table", "0.0.0.0", 21811)]
        [InlineData("table", "127.0.0.1", 21812)]
        [InlineData("table", "::", 21813)]
        [InlineData("table", "::1", 21814)]
        public void Every_strategy_sees_wildcard_and_loopback_listeners_on_v4_and_v6(string strategy, string address, int port)
        {
            var kind = HostProbes.Choose(v => v == HostProbes.Variable ? strategy : null, OSPlatform.Linux);
            Assert.True(HostProbes.Create(kind).IsFree(port));
            var ip = IPAddress.Parse(address);
            var listener = new TcpListener(ip, port);
            if (ip.AddressFamily == AddressFamily.InterNetworkV6) listener.Server.DualMode = false;
            listener.Start();
            try
            {
                var probe = HostProbes.Create(kind); // a fresh one: the table probe reads the table now
                Assert.False(probe.IsFree(port));
                var who = probe.DescribeHolder(port);
                Assert.StartsWith("host process", who);
                Assert.Contains(":" + port, who);
                Assert.Contains("(pid " + System.Environment.ProcessId + ")", who);
            }
            finally
            {
                listener.Stop();
            }
            Assert.True(HostProbes.Create(kind).IsFree(port), HostListenerCollection.StillHeld(port));
        }
    }
}
