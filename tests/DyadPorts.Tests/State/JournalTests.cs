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

namespace DyadPorts.Tests.State
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
            var victim = temp.PlantLink(temp.Store.Journal.Path);
            var log = new RecordingLog();
            temp.Store.Update(s => { s.Allocations["a"] = new AllocationRecord { AppId = "a", Port = 21000 }; s.Record(Moved("a", 1, 2)); return 0; }, _ => new StateDocument(), log, default);
            Assert.StartsWith(ErrorIds.StateFileUnsafe, Assert.Single(log.Warnings));
            Assert.Equal("precious", File.ReadAllText(victim));
            Assert.Equal(21000, temp.Store.Peek().Allocations["a"].Port);
        }

        [Fact]
        public void A_0_2_0_history_is_read_and_this_version_writes_the_same_lines()
        {
            var fixture = Fixtures.PathOf("0.2.0", "state.json.history.jsonl");
            using var temp = new TempState();
            File.Copy(fixture, temp.Store.Journal.Path);
            File.SetUnixFileMode(temp.Store.Journal.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var read = temp.Store.Journal.Read(w => throw new InvalidOperationException(w));
            Assert.Equal(new[] { PortEventKind.Allocated, PortEventKind.Moved, PortEventKind.PreviewStarted, PortEventKind.PreviewStarted, PortEventKind.PreviewStopped }, read.Select(e => e.Kind));
            var moved = read[1];
            Assert.Equal((new DateTimeOffset(2026, 11, 27, 10, 15, 31, 123, TimeSpan.Zero), "api", 32101, 32100, "container web", "unix:///run/docker.sock"),
                (moved.Time, moved.AppId, moved.Port.Value, moved.PreviousPort.Value, moved.HeldBy, moved.Endpoint));
            Assert.Equal(4242, read[2].ProcessId);
            Assert.Equal("idle for 00:10:00", read[4].Reason);

            // Written again by this version, byte for byte what 0.2.0 wrote: 0.2.0 reads it back as well.
            using var again = new TempState();
            again.Store.Journal.Append(read);
            Assert.Equal(File.ReadAllBytes(fixture), File.ReadAllBytes(again.Store.Journal.Path));
        }

        [Fact]
        public void An_unsafe_history_costs_only_the_history_with_a_warning()
        {
            using var temp = new TempState();
            Journal(temp.Store, Moved("a", 21000, 21001));
            var victim = Path.Combine(temp.Directory, "victim.jsonl");
            File.Move(temp.Store.Journal.Path, victim);
            File.CreateSymbolicLink(temp.Store.Journal.Path, victim);
            var warnings = new List<string>();
            Assert.Empty(temp.Store.ReadHistory(warnings.Add, default));
            Assert.StartsWith(ErrorIds.StateFileUnsafe, Assert.Single(warnings));
            Assert.Contains("symbolic link", warnings[0]);
        }

        [Fact]
        public void Reads_under_the_lock_never_see_an_append_or_a_rotation_in_progress()
        {
            using var temp = new TempState();
            // Events as large as the rotation size: every append rotates, and an unlocked reader that reads the old file,
            // then the current one, misses the event a rotation moved in between (0.2.0's reader did, 11 reads in 14).
            var big = new string('x', (int)DyadPorts.Core.State.Journal.RotateAtBytes);
            var warnings = new List<string>();
            Exception failed = null;
            var writer = new System.Threading.Thread(() => failed = Record.Exception(() =>
            {
                for (var i = 0; i < 30; i++) Journal(temp.Store, new PortEvent { Kind = PortEventKind.Moved, AppId = "w" + i, Port = 21001, Reason = big });
            }));
            writer.Start();
            var reads = 0;
            var gaps = 0;
            while (writer.IsAlive)
            {
                var ids = temp.Store.ReadHistory(w => { lock (warnings) warnings.Add(w); }, default)
                    .Select(e => int.Parse(e.AppId.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture)).ToList();
                if (ids.Zip(ids.Skip(1), (a, b) => b - a).Any(d => d != 1)) gaps++;
                reads++;
            }
            Assert.Null(failed);
            Assert.True(reads > 1);
            Assert.Empty(warnings);
            Assert.Equal(0, gaps);
            Assert.Equal(new[] { "w28", "w29" }, temp.Store.ReadHistory(w => warnings.Add(w), default).Select(e => e.AppId));
        }
    }
}
