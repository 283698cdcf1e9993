using DyadPorts.Core.Engines;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    public class EngineHostTests
    {
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
