using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    public class PortRangeTests
    {
        [Theory]
        [InlineData("32100-32200", 32100, 32200)]
        [InlineData(" 1-65535 ", 1, 65535)]
        [InlineData("32150", 32150, 32150)]
        public void Parses_valid_ranges(string text, int first, int last)
        {
            var range = PortRange.Parse(text);
            Assert.Equal(first, range.First);
            Assert.Equal(last, range.Last);
            Assert.Equal(last - first + 1, range.Count);
        }

        [Theory]
        [InlineData("abc")]
        [InlineData("32200-32100")]
        [InlineData("1-70000")]
        [InlineData("0-10")]
        [InlineData("-5")]
        [InlineData("1-2-3")]
        [InlineData("")]
        [InlineData("32100-")]
        public void Rejects_malformed_inverted_and_out_of_range(string text)
        {
            var e = Assert.Throws<DyadPortsException>(() => PortRange.Parse(text));
            Assert.Equal(ErrorIds.InvalidPortRange, e.ErrorId);
            Assert.Equal(FailureCategory.InvalidArgument, e.Category);
        }

        [Fact]
        public void Explicit_text_beats_environment_which_beats_default()
        {
            Assert.Equal(new PortRange(40000, 40010), PortRange.Resolve("40000-40010", _ => "41000-41010"));
            Assert.Equal(new PortRange(41000, 41010), PortRange.Resolve(null, v => v == "DYAD_PORT_RANGE" ? "41000-41010" : null));
            Assert.Equal(PortRange.Default, PortRange.Resolve(null, _ => null));
            Assert.Equal("32100-32200", PortRange.Default.ToString());
        }
    }
}
