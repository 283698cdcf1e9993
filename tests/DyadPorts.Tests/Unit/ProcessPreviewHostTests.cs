using DyadPorts.Core.Previews;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    public class ProcessPreviewHostTests
    {
        [Fact]
        public void Quoted_arguments_split_back_exactly()
        {
            var args = new[] { "-c", "exec \"$@\"", "a b", "back\\slash\"quote", "" };
            var joined = ProcessPreviewHost.JoinArguments(args);
            Assert.Equal("-c \"exec \\\"$@\\\"\" \"a b\" \"back\\slash\\\"quote\" \"\"", joined);
        }
    }
}
