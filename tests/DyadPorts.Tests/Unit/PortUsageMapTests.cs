using System.Collections;
using DyadPorts.Commands;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary>The usage map's drawing, which lives in the cmdlet layer: the model carries data only.</summary>
    public sealed class PortUsageMapTests
    {
        [Fact]
        public void The_map_wraps_to_the_width_in_groups_of_ten_with_colour_only_when_given()
        {
            var usage = new PortUsage { First = 21000, Last = 21034, Map = new string('.', 10) + "CCAAH" + new string('.', 20) };
            var narrow = PortUsageMap.Lines(usage, 30);
            Assert.Equal(new[] { "21000 .......... CCAAH.....", "21020 .......... .....", }, narrow);
            Assert.All(narrow, line => Assert.True(line.Length <= 30));
            Assert.Equal(new[] { "21000 .......... CCAAH..... .......... ....." }, PortUsageMap.Lines(usage, 80));
            var colored = PortUsageMap.Lines(usage, 80, new Hashtable { ["C"] = "<c>", ["H"] = "<h>" }, "</>");
            Assert.Equal(new[] { "21000 .......... <c>CC</>AA<h>H</>..... .......... ....." }, colored);
            Assert.Equal("C container   A allocation   H host process   . free", PortUsageMap.Legend);
        }

        [Fact]
        public void Each_line_resets_its_own_colour()
        {
            var usage = new PortUsage { First = 21000, Last = 21019, Map = new string('C', 20) };
            Assert.Equal(new[] { "21000 <c>CCCCCCCCCC</>", "21010 <c>CCCCCCCCCC</>" }, PortUsageMap.Lines(usage, 17, new Hashtable { ["C"] = "<c>" }, "</>"));
        }
    }
}
