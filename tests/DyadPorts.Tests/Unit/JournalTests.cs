using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Insights;
using DyadPorts.Core.State;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public class JournalTests
    {
        private static void Journal(StateStore store, params PortEvent[] events) =>
            store.Update(s => { foreach (var e in events) s.Record(e); return 0; }, _ => new StateDocument(), NullOperationLog.Instance, default);

        private static PortEvent Moved(string app, int from, int to) => new PortEvent { Kind = PortEventKind.Moved, AppId = app, Port = to, PreviousPort = from, HeldBy = "container x" };

        [Fact]
        public void Events_are_appended_under_the_lock_as_json_lines_counted_in_the_state_and_private()
        {
            using var temp = new TempState();
            Journal(temp.Store, Moved("a", 21000, 21001), new PortEvent { Kind = PortEventKind.Released, AppId = "a", Port = 21001 });
            Journal(temp.Store, Moved("b", 21002, 21003));
            var lines = File.ReadAllLines(temp.Store.Journal.Path);
            Assert.Equal(3, lines.Length);
            Assert.Contains("\"kind\":\"Moved\"", lines[0]);
            Assert.Contains("\"previousPort\":21000", lines[0]);
            var read = temp.Store.Journal.Read(w => throw new InvalidOperationException(w));
            Assert.Equal(new[] { PortEventKind.Moved, PortEventKind.Released, PortEventKind.Moved }, read.Select(e => e.Kind));
            Assert.All(read, e => Assert.NotEqual(default, e.Time));
            Assert.Equal(2, temp.Store.Peek().Counters["Moved"]);
            Assert.Equal(1, temp.Store.Peek().Counters["Released"]);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(temp.Store.Journal.Path));
        }

        [Fact]
        public void A_torn_last_line_is_skipped_with_a_warning_and_cut_off_by_the_next_writer()
        {
            using var temp = new TempState();
            Journal(temp.Store, Moved("a", 21000, 21001));
            File.AppendAllText(temp.Store.Journal.Path, "{\"time\":\"2026-11-27T00:00:00+00:00\",\"kind\":\"Allo"); // a crash mid-append
            var warnings = new List<string>();
            Assert.Single(temp.Store.Journal.Read(warnings.Add));
            Assert.Contains("incomplete", Assert.Single(warnings));

            Journal(temp.Store, Moved("b", 21002, 21003));
            warnings.Clear();
            var read = temp.Store.Journal.Read(warnings.Add);
            Assert.Empty(warnings);
            Assert.Equal(new[] { "a", "b" }, read.Select(e => e.AppId));
        }

        [Fact]
        public void Rotation_keeps_one_old_file_and_never_lowers_a_counter()
        {
            using var temp = new TempState();
            var journal = temp.Store.Journal;
            for (var i = 0; i < 5; i++) Journal(temp.Store, Moved("a" + i, 21000, 21001));
            var counted = temp.Store.Peek().Counters["Moved"];
            // Rotate at a tiny size: the current file becomes .1, and a second rotation replaces it.
            journal.Append(new[] { Moved("r1", 1, 2) }, rotateAt: 10);
            Assert.True(File.Exists(journal.OldPath));
            journal.Append(new[] { Moved("r2", 1, 2) }, rotateAt: 10);
            Assert.Equal(new[] { "r1", "r2" }, journal.Read(_ => { }).Select(e => e.AppId));
            Assert.Empty(Directory.GetFiles(temp.Directory, "*.history.jsonl.2"));
            Journal(temp.Store, Moved("after", 21000, 21001));
            Assert.Equal(counted + 1, temp.Store.Peek().Counters["Moved"]);
        }

        [Fact]
        public void A_symlinked_journal_is_refused_with_a_warning_its_target_untouched_and_the_state_still_saved()
        {
            using var temp = new TempState();
            var victim = Path.Combine(temp.Directory, "victim.txt");
            File.WriteAllText(victim, "precious");
            File.CreateSymbolicLink(temp.Store.Journal.Path, victim);
            var log = new RecordingLog();
            temp.Store.Update(s => { s.Allocations["a"] = new AllocationRecord { AppId = "a", Port = 21000 }; s.Record(Moved("a", 1, 2)); return 0; }, _ => new StateDocument(), log, default);
            Assert.StartsWith(ErrorIds.StateFileUnsafe, Assert.Single(log.Warnings));
            Assert.Equal("precious", File.ReadAllText(victim));
            Assert.Equal(21000, temp.Store.Peek().Allocations["a"].Port);
        }

        [Fact]
        public void The_metrics_text_has_help_type_and_escaped_labels()
        {
            var usage = new PortUsage { Range = "21000-21009", First = 21000, Last = 21009, Total = 10, Free = 7, HeldByAllocation = 1, HeldByContainer = 1, HeldByHost = 1, At = DateTimeOffset.FromUnixTimeSeconds(1800000000) };
            usage.AllocationsByStatus["Active"] = 2;
            usage.EventCounts["Moved"] = 5;
            var text = PrometheusText.Build(usage);
            Assert.Contains("# HELP dyadports_ports_free ", text);
            Assert.Contains("# TYPE dyadports_events_total counter\n", text);
            Assert.Contains("dyadports_ports_held{range=\"21000-21009\",source=\"host\"} 1\n", text);
            Assert.Contains("dyadports_allocations{status=\"active\"} 2\n", text);
            Assert.Contains("dyadports_allocations{status=\"conflict\"} 0\n", text);
            Assert.Contains("dyadports_events_total{kind=\"moved\"} 5\n", text);
            Assert.Contains("dyadports_events_total{kind=\"race_lost\"} 0\n", text);
            Assert.Contains("dyadports_last_export_timestamp_seconds 1800000000\n", text);
            Assert.Equal("a\\\\b\\\"c\\nd", PrometheusText.Escape("a\\b\"c\nd"));
        }

        [Theory]
        [InlineData("4.3.1", true)]
        [InlineData("4.3", true)]
        [InlineData("4.4.0", false)]
        [InlineData("5.0.2-dev", false)]
        [InlineData("", false)]
        public void Podman_before_4_4_swaps_rx_and_tx(string version, bool swaps) =>
            Assert.Equal(swaps, ContainerEngine.PodmanSwapsNetworkCounters(version));
    }
}
