using DyadPorts.Core.Session;
using DyadPorts.Core.State;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary>
    /// The first command's head start (<see cref="ColdStart"/>) swallows whatever fails, so a sample the state format no
    /// longer reads would lose the head start without a sound: here it must read back whole.
    /// </summary>
    public sealed class ColdStartTests
    {
        [Fact]
        public void The_head_start_writes_and_reads_back_a_state_in_memory()
        {
            var read = StateStore.Warm();
            var record = Assert.Single(read.Allocations).Value;
            Assert.Equal("warm", record.AppId);
            Assert.Equal(1, record.Port);
            Assert.Equal(EngineKind.Docker, record.Engine);
            Assert.Equal(1, read.Counters["warm"]);
        }

        [Fact]
        public void The_head_start_writes_a_journal_line_in_memory()
        {
            var line = Journal.Warm();
            Assert.Contains("\"kind\":\"Allocated\"", line, System.StringComparison.Ordinal);
            Assert.Contains("\"appId\":\"warm\"", line, System.StringComparison.Ordinal);
            Assert.DoesNotContain("\n", line, System.StringComparison.Ordinal);
        }
    }
}
