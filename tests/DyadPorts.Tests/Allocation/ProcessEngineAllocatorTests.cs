using System.Net;
using System.Net.Sockets;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Allocation
{
    /// <summary>The allocator with the process engine (no container engine): host listeners and other apps' allocations. Ports 26020-26049.</summary>
    public class ProcessEngineAllocatorTests
    {
        private static TcpListener Listen(IPAddress address, int port)
        {
            var listener = new TcpListener(address, port);
            if (address.AddressFamily == AddressFamily.InterNetworkV6) listener.Server.DualMode = false;
            listener.Start();
            return listener;
        }

        [Fact]
        public void Process_engine_allocation_skips_a_host_listener_and_other_apps()
        {
            using var temp = new TempState();
            var allocator = new PortAllocator(temp.Store, null, EngineKind.Process);
            var range = new PortRange(26020, 26023);
            var listener = Listen(IPAddress.IPv6Any, 26020);
            try
            {
                Assert.Equal(26021, allocator.Request("a", range, false, NullOperationLog.Instance, default).Port);
                Assert.Equal(26022, allocator.Request("b", range, false, NullOperationLog.Instance, default).Port);
                Assert.Equal(26021, allocator.Request("a", range, false, NullOperationLog.Instance, default).Port);
                var statuses = allocator.Test(new[] { 26020, 26021, 26023 }, NullOperationLog.Instance, default);
                Assert.Equal(PortHolderSource.Host, statuses[0].Source);
                Assert.Equal(PortHolderSource.Allocation, statuses[1].Source);
                Assert.Equal("allocation of app a", statuses[1].HeldBy);
                Assert.True(statuses[2].Available);
                Assert.Null(statuses[2].HeldBy);
            }
            finally
            {
                listener.Stop();
            }
        }

        [Fact]
        public void A_reserved_port_taken_by_a_host_process_is_a_conflict_then_moved_with_a_warning()
        {
            using var temp = new TempState();
            var allocator = new PortAllocator(temp.Store, null, EngineKind.Process);
            var range = new PortRange(26030, 26033);
            Assert.Equal(26030, allocator.Request("57", range, false, NullOperationLog.Instance, default).Port);
            var listener = Listen(IPAddress.Any, 26030);
            try
            {
                var conflict = Assert.Single(allocator.Get(_ => true, NullOperationLog.Instance, default));
                Assert.Equal(AllocationStatus.Conflict, conflict.Status);
                Assert.Contains("host process", conflict.HeldBy);
                var log = new RecordingLog();
                var moved = allocator.Request("57", range, false, log, default);
                Assert.Equal(26031, moved.Port);
                Assert.Equal(AllocationStatus.Reserved, moved.Status);
                Assert.Contains("port 26030 is held by host process", Assert.Single(log.Warnings));
            }
            finally
            {
                listener.Stop();
            }
        }

        [Fact]
        public void Exhausting_a_tiny_range_fails_with_PortRangeExhausted()
        {
            using var temp = new TempState();
            var allocator = new PortAllocator(temp.Store, null, EngineKind.Process);
            var range = new PortRange(26040, 26041);
            allocator.Request("x", range, false, NullOperationLog.Instance, default);
            allocator.Request("y", range, false, NullOperationLog.Instance, default);
            var e = Assert.Throws<DyadPortsException>(() => allocator.Request("z", range, false, NullOperationLog.Instance, default));
            Assert.Equal(ErrorIds.PortRangeExhausted, e.ErrorId);
            Assert.Contains("2 by other apps' allocations", e.Message);
            Assert.False(temp.Store.Peek().Allocations.ContainsKey("z"));
        }
    }
}
