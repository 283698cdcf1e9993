using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Availability;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>
    /// The host-listener checks beside real engines, once per host probe strategy (bind, strict, table), so CI
    /// proves all three on Linux. Ports 21820-21849.
    /// </summary>
    [Collection(EngineCollection.Name)]
    public sealed class HostProbeEngineTests : IDisposable
    {
        private readonly EngineState _state = new EngineState();

        public static IEnumerable<object[]> StrategiesAndEngines =>
            from strategy in new[] { "bind", "strict", "table" }
            from row in EngineCase.Names
            select new object[] { strategy, row };

        public void Dispose()
        {
            try
            {
                foreach (var name in new[] { "docker", "podman" }) TestEngine.Get(name).CleanUp();
            }
            finally
            {
                _state.Dispose(); // its views too, even when a clean-up failed
            }
        }

        private static HostProbeStrategy Strategy(string name) => Enum.Parse<HostProbeStrategy>(name, ignoreCase: true);

        /// <summary>One allocator per operation, each with a new probe of the strategy (a table probe reads the table once per allocation).</summary>
        private PortAllocator Allocator(TestEngine engine, string strategy) =>
            _state.Allocator(engine, HostProbes.Create(Strategy(strategy)));

        [Theory]
        [MemberData(nameof(StrategiesAndEngines))]
        public void Host_listeners_on_v4_and_v6_loopback_and_wildcard_are_seen_beside_the_engine(string strategy, string row)
        {
            var engine = _state.Use(row);
            var listeners = new[]
            {
                new TcpListener(IPAddress.Loopback, 21820),
                new TcpListener(IPAddress.IPv6Any, 21821) { Server = { DualMode = false } },
                new TcpListener(IPAddress.IPv6Loopback, 21822) { Server = { DualMode = false } },
                new TcpListener(IPAddress.Any, 21823),
            };
            foreach (var l in listeners) l.Start();
            try
            {
                var status = Allocator(engine, strategy).Test(new[] { 21820, 21821, 21822, 21823, 21824 }, NullOperationLog.Instance, default);
                Assert.Equal(new[] { false, false, false, false, true }, status.Select(s => s.Available));
                Assert.All(status.Take(4), s => Assert.Equal(PortHolderSource.Host, s.Source));
                Assert.All(status.Take(4), s => Assert.Contains($"(pid {Environment.ProcessId}) listening on", s.HeldBy));
                Assert.Equal(21824, Allocator(engine, strategy).Request(TestRun.App("h"), new PortRange(21820, 21830), false, NullOperationLog.Instance, default).Port);
            }
            finally
            {
                foreach (var l in listeners) l.Stop();
            }
        }

        [Theory]
        [MemberData(nameof(StrategiesAndEngines))]
        public void The_probe_alone_sees_a_running_containers_published_port(string strategy, string row)
        {
            var engine = _state.Use(row);
            engine.CleanUp();
            engine.Run("dyadtest-probe-" + TestRun.Prefix + strategy, 21835);
            Assert.False(HostProbes.Create(Strategy(strategy)).IsFree(21835));
            Assert.True(HostProbes.Create(Strategy(strategy)).IsFree(21836));
        }
    }
}
