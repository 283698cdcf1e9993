using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Previews;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    public class ResourceLimitTests
    {
        [Theory]
        [InlineData("1.5", 1_500_000_000L)]
        [InlineData("2", 2_000_000_000L)]
        [InlineData(null, 0L)]
        public void Parses_cpu_limits(string text, long nano) => Assert.Equal(nano, ResourceLimits.ParseCpus(text));

        [Theory]
        [InlineData("512m", 512L << 20)]
        [InlineData("1g", 1L << 30)]
        [InlineData("2GB", 2L << 30)]
        [InlineData("10485760", 10485760L)]
        public void Parses_memory_limits(string text, long bytes) => Assert.Equal(bytes, ResourceLimits.ParseMemory(text));

        [Theory]
        [InlineData("lots")]
        [InlineData("-1")]
        [InlineData("1k")]
        public void Rejects_bad_memory_limits(string text)
        {
            var e = Assert.Throws<DyadPortsException>(() => ResourceLimits.ParseMemory(text));
            Assert.Equal(FailureCategory.InvalidArgument, e.Category);
        }
    }
}
