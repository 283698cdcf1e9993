using DyadPorts.Core.State;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    public sealed class StateLocationTests
    {
        [Theory]
        [InlineData("/home/u/.local/state/dyadports/state.json", StateLocationKind.File)]
        [InlineData("relative/state.json", StateLocationKind.File)]
        [InlineData(@"C:\Users\u\state.json", StateLocationKind.File)]
        [InlineData("C:/Users/u/state.json", StateLocationKind.File)]
        [InlineData("C://Users/u/state.json", StateLocationKind.File)]
        [InlineData("etcd:", StateLocationKind.File)]
        [InlineData("", StateLocationKind.File)]
        [InlineData(null, StateLocationKind.File)]
        [InlineData("etcd://127.0.0.1:2379", StateLocationKind.Etcd)]
        [InlineData(" ETCDS://a:1/p", StateLocationKind.Etcd)]
        [InlineData("consul://127.0.0.1:8500", StateLocationKind.Unknown)]
        [InlineData("file:///tmp/state.json", StateLocationKind.Unknown)]
        [InlineData("redis+tls://h:6379", StateLocationKind.Unknown)]
        public void Classify(string location, StateLocationKind kind) => Assert.Equal(kind, StateLocation.Classify(location));

        [Fact]
        public void An_unknown_scheme_is_a_terminating_StateLocationInvalid_naming_it()
        {
            var e = StateLocation.UnknownScheme("s3://bucket/state");
            Assert.Equal(Core.Diagnostics.ErrorIds.StateLocationInvalid, e.ErrorId);
            Assert.True(e.IsTerminating);
            Assert.Contains("'s3'", e.Message, System.StringComparison.Ordinal);
        }
    }
}
