using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Insights;
using DyadPorts.Core.Ledger;
using DyadPorts.Core.Previews;
using DyadPorts.Core.State;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>History, usage and metrics against real dockerd and podman (issue 13); the idle reaper has IdleReaperEngineTests. Ports 21700-21719.</summary>
    [Collection(EngineCollection.Name)]
    public sealed class InsightsEngineTests : IDisposable
    {
        private readonly PreviewScenario _scenario = new PreviewScenario("insight");
        private readonly EngineState _other = new EngineState();

        public InsightsEngineTests(EngineFixture engines)
        {
            _ = engines; // the collection's fixture: both engines, and this run's clean-up at the end
        }

        public void Dispose()
        {
            _scenario.Dispose();
            _other.Dispose();
        }

        private PortAllocator Allocator(TestEngine engine) => _scenario.Allocator(engine);

        private PreviewRequest Request(string appId, TestEngine engine, int first, int last) => _scenario.Request(appId, engine, first, last);

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void The_seed_scenario_journals_an_allocation_then_a_move_naming_the_holder(string row)
        {
            var engine = _scenario.Use(row);
            var a57 = TestRun.App("57");
            var a56 = TestRun.App("56");
            var range = new PortRange(21700, 21705);
            Assert.Equal(21700, Allocator(engine).Request(a57, range, false, NullOperationLog.Instance, default).Port);
            // App 56's preview appears on 21700, started by a DyadPorts that does not know 57's state (the seed's stale
            // memory): another state of the same row.
            _other.Use(row);
            var p56 = _other.Launcher(engine).Start(Request(a56, engine, 21700, 21700), NullOperationLog.Instance, default);
            Assert.Equal(21701, Allocator(engine).Request(a57, range, false, new RecordingLog(), default).Port);

            var read = new RecordingLog();
            var history = _scenario.State.Ledger((IStateRecovery)null).History(read, default).Where(e => e.AppId == a57).ToList();
            Assert.Empty(read.Warnings); // every event was readable
            Assert.Equal(new[] { PortEventKind.Allocated, PortEventKind.Moved }, history.Select(e => e.Kind));
            Assert.Equal((21700, (int?)null), (history[0].Port.Value, history[0].PreviousPort));
            Assert.Equal((21701, (int?)21700), (history[1].Port.Value, history[1].PreviousPort));
            Assert.Contains($"container dyad-app-{a56}", history[1].HeldBy);
            Assert.Equal(engine.Endpoint, history[1].Endpoint);
            Assert.True(history[0].Time <= history[1].Time);
            Assert.Equal(1, _scenario.State.Peek().Counters["Moved"]);
            Assert.Contains(_other.History(), e => e.Kind == PortEventKind.PreviewStarted && e.ContainerId == p56.ContainerId);
            _scenario.State.AssertStoredOnItsLedger(); // issue 17 item 3: on an etcd row the history is etcd's
            _other.AssertStoredOnItsLedger();
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void Usage_counts_match_Test_over_the_same_range_and_the_metrics_pass_promtool(string row)
        {
            var engine = _scenario.Use(row);
            var range = new PortRange(21710, 21719);
            engine.Run($"{TestRun.Prefix}usage-c", 21710);
            engine.Run($"{TestRun.Prefix}usage-s", 21713, start: false);
            Allocator(engine).Request(TestRun.App("usage-a"), new PortRange(21711, 21711), false, NullOperationLog.Instance, default);
            var listener = new TcpListener(IPAddress.Loopback, 21712);
            listener.Start();
            try
            {
                var usage = Allocator(engine).Usage(range, NullOperationLog.Instance, default);
                var tested = Allocator(engine).Test(Enumerable.Range(range.First, range.Count).ToList(), NullOperationLog.Instance, default);
                Assert.Equal(tested.Count(s => s.Available), usage.Free);
                Assert.Equal(tested.Count(s => s.Source == PortHolderSource.Container), usage.HeldByContainer);
                Assert.Equal(tested.Count(s => s.Source == PortHolderSource.Allocation), usage.HeldByAllocation);
                Assert.Equal(tested.Count(s => s.Source == PortHolderSource.Host), usage.HeldByHost);
                Assert.Equal("CAHC......", usage.Map);
                Assert.Equal((6, 2, 1, 1), (usage.Free, usage.HeldByContainer, usage.HeldByAllocation, usage.HeldByHost));
                Assert.Equal(1, usage.AllocationsByStatus["Reserved"]);

                _scenario.State.AssertStoredOnItsLedger(); // issue 17 item 3: on an etcd row usage and metrics read etcd
                var prom = Path.Combine(_scenario.Temp.Directory, "dyadports.prom");
                PrometheusText.WriteAtomically(prom, PrometheusText.Build(usage));
                Assert.Contains("dyadports_ports_free{range=\"21710-21719\"} 6", File.ReadAllText(prom));
                var (code, output) = Promtool(prom);
                Assert.True(code == 0, "promtool check metrics: " + output);
            }
            finally
            {
                listener.Stop();
            }
        }

        private static (int, string) Promtool(string file)
        {
            var promtool = new[] { "/usr/bin/promtool", "/usr/local/bin/promtool" }.FirstOrDefault(File.Exists);
            Assert.True(promtool != null, "promtool is missing: install Debian's prometheus package (tools/setup-engines.sh does)");
            var info = new ProcessStartInfo(promtool) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
            info.ArgumentList.Add("check");
            info.ArgumentList.Add("metrics");
            using var process = Process.Start(info);
            process.StandardInput.Write(File.ReadAllText(file));
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output);
        }
    }
}
