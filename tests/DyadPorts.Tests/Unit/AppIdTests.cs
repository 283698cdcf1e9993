using DyadPorts.Core.Allocation;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    public class AppIdTests
    {
        [Theory]
        [InlineData("57")]
        [InlineData("my-app_1.2")]
        [InlineData("A")]
        public void Accepts_container_safe_ids(string id) => Assert.Null(AppIds.Problem(id));

        [Theory]
        [InlineData("")]
        [InlineData(null)]
        [InlineData("'; rm -rf /'")]
        [InlineData("$(id)")]
        [InlineData("-leading-dash")]
        [InlineData("ünïcode")]
        [InlineData("a b")]
        public void Rejects_hostile_ids(string id) => Assert.NotNull(AppIds.Problem(id));

        [Fact]
        public void Rejects_ids_over_63_characters()
        {
            Assert.Null(AppIds.Problem(new string('a', 63)));
            Assert.Contains("63", AppIds.Problem(new string('a', 64)));
        }

        [Fact]
        public void Container_names_round_trip()
        {
            Assert.Equal("dyad-app-57", AppIds.ContainerName("57"));
            Assert.Equal("57", AppIds.FromContainerName("/dyad-app-57"));
            Assert.Null(AppIds.FromContainerName("other-57"));
        }
    }
}
