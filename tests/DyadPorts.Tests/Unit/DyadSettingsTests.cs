using System.Collections.Generic;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Session;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary><see cref="DyadSettings"/>: every value a command takes from the environment, from one injected environment.</summary>
    public sealed class DyadSettingsTests
    {
        private static DyadSettings From(Dictionary<string, string> variables) =>
            new DyadSettings(name => variables.TryGetValue(name, out var value) ? value : null);

        [Fact]
        public void Values_come_from_the_injected_environment()
        {
            var settings = From(new Dictionary<string, string>
            {
                ["DYAD_PORT_RANGE"] = "21000-21010",
                ["DYAD_PREVIEW_IMAGE"] = "localhost/preview:1",
                ["AUTO_KILL_PORT"] = "yes",
                ["CONTAINER_CPU_LIMIT"] = "1.5",
                ["CONTAINER_MEMORY_LIMIT"] = "256m",
                ["DYAD_PORTS_STATE"] = "/srv/dyad/state.json",
            });
            Assert.Equal(new PortRange(21000, 21010), settings.Range);
            Assert.Equal(new PortRange(21005, 21006), settings.RangeOr("21005-21006"));
            Assert.Equal("localhost/preview:1", settings.Image);
            Assert.True(settings.AutoKillPort);
            Assert.Equal(1_500_000_000, settings.Limits.NanoCpus);
            Assert.Equal(256L * 1024 * 1024, settings.Limits.MemoryBytes);
            Assert.Equal("/srv/dyad/state.json", settings.StatePath);
        }

        [Fact]
        public void Defaults_hold_when_nothing_is_set()
        {
            var settings = From(new Dictionary<string, string>());
            Assert.Equal(PortRange.Default, settings.Range);
            Assert.Equal("node:22-alpine", settings.Image);
            Assert.False(settings.AutoKillPort);
            Assert.EndsWith("state.json", settings.StatePath, System.StringComparison.Ordinal);
        }

        [Fact]
        public void A_malformed_range_fails_only_the_commands_that_read_it()
        {
            var settings = From(new Dictionary<string, string> { ["DYAD_PORT_RANGE"] = "nonsense", ["DYAD_PREVIEW_IMAGE"] = "img" });
            Assert.Equal("img", settings.Image); // resolving the settings did not fail
            Assert.Equal(new PortRange(21000, 21001), settings.RangeOr("21000-21001"));
            Assert.Equal(ErrorIds.InvalidPortRange, Assert.Throws<DyadPortsException>(() => settings.Range).ErrorId);
        }
    }
}
