using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using DyadPorts.Core.Availability;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary>The three host probe strategies against real listeners, and how one is chosen. Ports 21800-21819.</summary>
    public class HostProbeStrategyTests
    {
        private static Dictionary<string, string> Env(string probe) => new Dictionary<string, string> { [HostProbes.Variable] = probe };
        private static string Lookup(Dictionary<string, string> env, string name) => env.TryGetValue(name, out var v) ? v : null;

        [Fact]
        public void Each_os_has_its_default_and_the_variable_overrides_it()
        {
            var none = new Dictionary<string, string>();
            Assert.Equal(HostProbeStrategy.Bind, HostProbes.Choose(v => Lookup(none, v), OSPlatform.Linux));
            Assert.Equal(HostProbeStrategy.Strict, HostProbes.Choose(v => Lookup(none, v), OSPlatform.OSX));
            Assert.Equal(HostProbeStrategy.Strict, HostProbes.Choose(v => Lookup(none, v), OSPlatform.Windows));
            Assert.Equal(HostProbeStrategy.Table, HostProbes.Choose(v => Lookup(Env(" Table "), v), OSPlatform.Linux));
            Assert.Equal(HostProbeStrategy.Strict, HostProbes.Choose(v => Lookup(Env("strict"), v), OSPlatform.Linux));
            Assert.Equal(HostProbeStrategy.Bind, HostProbes.Choose(v => Lookup(Env("bind"), v), OSPlatform.OSX));
        }

        [Fact]
        public void An_unknown_probe_name_is_InvalidHostProbe_and_terminating()
        {
            var e = Assert.Throws<DyadPortsException>(() => HostProbes.Factory(true, v => Lookup(Env("netstat"), v), OSPlatform.Linux));
            Assert.Equal(ErrorIds.InvalidHostProbe, e.ErrorId);
            Assert.Equal("netstat", e.Target);
            Assert.True(e.IsTerminating);
            Assert.Contains("bind, strict or table", e.Message);
        }

        [Fact]
        public void Windows_adds_the_table_as_a_second_check_and_a_remote_engine_gets_the_none_probe()
        {
            var empty = new Dictionary<string, string>();
            Assert.IsType<AllOfHostPortProbe>(HostProbes.Factory(true, v => Lookup(empty, v), OSPlatform.Windows)());
            Assert.IsType<StrictHostPortProbe>(HostProbes.Factory(true, v => Lookup(empty, v), OSPlatform.OSX)());
            Assert.IsType<HostPortProbe>(HostProbes.Factory(true, v => Lookup(empty, v), OSPlatform.Linux)());
            Assert.IsType<TableHostPortProbe>(HostProbes.Factory(true, v => Lookup(Env("table"), v), OSPlatform.Windows)());
            var remote = HostProbes.Factory(EngineHost.IsLocal("tcp://10.231.12.2:2376"), v => Lookup(empty, v), OSPlatform.Linux)();
            Assert.IsType<RemoteHostPortProbe>(remote);
            Assert.True(remote.IsFree(21800));
        }

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
            Assert.True(HostProbes.Create(kind).IsFree(port));
        }

        [Fact]
        public void Host_identity_is_this_host_for_sockets_pipes_and_loopback_and_the_name_otherwise()
        {
            Assert.Equal(EngineHost.Local, EngineHost.Of(null));
            Assert.Equal(EngineHost.Local, EngineHost.Of("unix:///run/podman/podman.sock"));
            Assert.Equal(EngineHost.Local, EngineHost.Of("npipe://./pipe/docker_engine"));
            Assert.Equal(EngineHost.Local, EngineHost.Of("tcp://127.0.0.1:2375"));
            Assert.Equal(EngineHost.Local, EngineHost.Of("tcp://[::1]:2375"));
            Assert.Equal(EngineHost.Local, EngineHost.Of("tcp://LOCALHOST:2375"));
            Assert.Equal("10.231.12.2", EngineHost.Of("tcp://10.231.12.2:2376"));
            Assert.Equal("build.example", EngineHost.Of("tcp://Build.Example:2376"));
            Assert.True(EngineHost.SameHost("unix:///run/docker.sock", "unix:///run/podman/podman.sock"));
            Assert.True(EngineHost.SameHost("tcp://h:2375", "tcp://h:2376"));
            Assert.False(EngineHost.SameHost("tcp://h1:2376", "unix:///run/docker.sock"));
        }
    }
}
