using DyadPorts.Core.Diagnostics;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    public class EngineRefusedExceptionTests
    {
        [Theory]
        [InlineData("Error response from daemon: driver failed programming external connectivity on endpoint x: Bind for 0.0.0.0:32101 failed: port is already allocated", true)]
        [InlineData("cannot listen on the TCP port: listen tcp4 :32100: bind: address already in use", true)]
        [InlineData("something went wrong with the request: \"proxy already running\"", true)]
        [InlineData("Error starting userland proxy: listen tcp4 0.0.0.0:32102: bind: address already in use", true)]
        [InlineData("no such image", false)]
        public void Recognises_both_engines_port_conflict_texts(string message, bool conflict) =>
            Assert.Equal(conflict, new EngineRefusedException("unix:///x.sock", "start container x", System.Net.HttpStatusCode.InternalServerError, message, null).IsPortConflict);

        [Theory]
        [InlineData(404, "No such container: 3f2a", true)]
        [InlineData(500, "container 3f2a does not exist in database: no such container", true)] // podman 4.3, removed mid-call
        [InlineData(500, "container state improper", false)]
        [InlineData(409, "no such container", false)]
        public void Recognises_no_such_container_as_both_engines_say_it(int status, string message, bool gone) =>
            Assert.Equal(gone, new EngineRefusedException("unix:///x.sock", "inspect container 3f2a", (System.Net.HttpStatusCode)status, message, null).IsNoSuchContainer);
    }
}
