using System.Collections.Generic;
using System.Runtime.InteropServices;
using DyadPorts.Core.Availability;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary>How the host probe is chosen: by OS, by DYAD_PORTS_HOST_PROBE and by the engine's host. No socket is opened.</summary>
    public class HostProbesTests
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
    }
}
