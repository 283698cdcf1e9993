using System.Net;
using System.Net.Sockets;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Availability;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Availability
{
    /// <summary>Real listeners that no engine knows about. Each test uses its own port block.</summary>
    [Collection(HostListenerCollection.Name)]
    public class HostPortProbeTests
    {
        private static TcpListener Listen(IPAddress address, int port, bool v6Only = true)
        {
            var listener = new TcpListener(address, port);
            if (address.AddressFamily == AddressFamily.InterNetworkV6) listener.Server.DualMode = !v6Only;
            listener.Start();
            return listener;
        }

        [Theory]
        [InlineData("0.0.0.0", 26001)]
        [InlineData("127.0.0.1", 26002)]
        [InlineData("::", 26003)]
        [InlineData("::1", 26004)]
        public void Sees_listeners_on_wildcard_and_specific_v4_and_v6_addresses(string address, int port)
        {
            var probe = HostPortProbe.Instance;
            Assert.True(probe.IsFree(port));
            var listener = Listen(IPAddress.Parse(address), port);
            try
            {
                Assert.False(probe.IsFree(port));
                var who = probe.DescribeHolder(port);
                Assert.StartsWith("host process", who);
                Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), who);
                Assert.Contains("(pid " + System.Environment.ProcessId + ")", who);
            }
            finally
            {
                listener.Stop();
            }
            Assert.True(probe.IsFree(port), HostListenerCollection.StillHeld(port));
        }

        [Fact]
        public void A_port_whose_connection_sits_in_time_wait_counts_as_free()
        {
            const int port = 26010;
            var listener = Listen(IPAddress.Loopback, port);
            using (var client = new TcpClient())
            {
                client.Connect(IPAddress.Loopback, port);
                using var accepted = listener.AcceptTcpClient();
                accepted.Close(); // the server side closes first and keeps TIME_WAIT
            }
            listener.Stop();
            Assert.True(HostPortProbe.Instance.IsFree(port), HostListenerCollection.StillHeld(port));
        }
    }
}
