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
    }
}
