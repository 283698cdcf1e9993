using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.State;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.State
{
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public class StateStoreTests
    {
        private static StateDocument Rebuilt(params (string app, int port)[] records)
        {
            var d = new StateDocument();
            foreach (var (app, port) in records) d.Allocations[app] = new AllocationRecord { AppId = app, Port = port, Engine = EngineKind.Docker };
            return d;
        }

        private static StateDocument NotCorrupt(StateIdentity identity) => throw new InvalidOperationException("the state is not corrupt");

        [Fact]
        public void Writes_round_trip_and_the_file_is_private_with_a_state_id()
        {
            using var temp = new TempState();
            temp.Store.Update(s => { s.Allocations["a"] = new AllocationRecord { AppId = "a", Port = 32100 }; return 0; }, _ => new StateDocument(), NullOperationLog.Instance, default);
            var read = temp.Store.Read(NotCorrupt, NullOperationLog.Instance, default);
            Assert.Equal(32100, read.Allocations["a"].Port);
            Assert.Equal(StateDocument.CurrentVersion, read.Version);
            Assert.Equal(temp.Store.DerivedStateId, read.StateId);
            Assert.Matches("^[0-9a-f]{16}$", read.StateId);
            Assert.NotEqual(new StateStore(temp.StatePath + "2").DerivedStateId, read.StateId);
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(temp.StatePath));
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(temp.StatePath + ".lock"));
                var nested = new StateStore(Path.Combine(temp.Directory, "new-folder", "state.json"));
                nested.Update(s => { s.Allocations["b"] = new AllocationRecord { AppId = "b", Port = 21001 }; return 0; }, _ => new StateDocument(), NullOperationLog.Instance, default);
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(temp.Directory, "new-folder")));
            }
            Assert.Empty(Directory.GetFiles(temp.Directory, "*.tmp"));
        }

        [Theory]
        [InlineData("garbage{{{")]
        [InlineData("{\"version\":1,\"allocations\":{\"a\":{\"appId\":\"a\",\"po")]
        [InlineData("")]
        [InlineData("[1,2]")]
        public void A_corrupt_file_is_backed_up_rebuilt_and_warned_about(string content)
        {
            using var temp = new TempState();
            File.WriteAllText(temp.StatePath, content);
            var log = new RecordingLog();
            string askedFor = null;
            var state = temp.Store.Read(id => { askedFor = id.StateId; return Rebuilt(("56", 32100)); }, log, default);
            Assert.Equal(temp.Store.DerivedStateId, askedFor);
            Assert.Equal(32100, state.Allocations["56"].Port);
            var warning = Assert.Single(log.Warnings);
            Assert.Contains(ErrorIds.StateFileCorrupt, warning);
            var backup = Assert.Single(Directory.GetFileSystemEntries(temp.Directory, "state.json.corrupt-*"));
            Assert.Equal(content, File.ReadAllText(backup));
            Assert.NotNull(StateStore.Parse(File.ReadAllText(temp.StatePath), out var problem, out _));
            Assert.Null(problem);
        }

        [Fact]
        public void A_truncated_file_keeps_its_state_id_for_the_rebuild()
        {
            using var temp = new TempState();
            File.WriteAllText(temp.StatePath, "{\"version\":2,\"stateId\":\"0123456789abcdef\",\"allocations\":{\"a\":{\"appId\":\"a\",\"po");
            string askedFor = null;
            var state = temp.Store.Read(id => { askedFor = id.StateId; return new StateDocument(); }, new RecordingLog(), default);
            Assert.Equal("0123456789abcdef", askedFor);
            Assert.Equal("0123456789abcdef", state.StateId);
        }

        [Theory]
        [InlineData(",\"adoptedStateIds\":[\"00000000deadbeef\",\"11111111cafef00d\"],\"allocations\":{\"a\":{\"appId\":\"a\",\"po", new[] { "00000000deadbeef", "11111111cafef00d" })]
        [InlineData(",\"adoptedStateIds\":[\"00000000deadbeef\",\"11111111caf", new[] { "00000000deadbeef" })]
        [InlineData(",\"allocations\":{\"a\":{\"appId\":\"a\",\"po", new string[0])]
        public void A_truncated_file_keeps_the_states_it_adopted_for_the_rebuild_and_after_it(string rest, string[] adopted)
        {
            using var temp = new TempState();
            File.WriteAllText(temp.StatePath, "{\"version\":2,\"stateId\":\"0123456789abcdef\"" + rest);
            StateIdentity askedFor = null;
            var state = temp.Store.Read(id => { askedFor = id; return new StateDocument(); }, new RecordingLog(), default);
            Assert.Equal(adopted, askedFor.Adopted);
            Assert.Equal(adopted, state.AdoptedStateIds);
            Assert.Equal(adopted, new StateStore(temp.StatePath).Peek().AdoptedStateIds);
            Assert.All(adopted, id => Assert.True(state.Owns(id)));
        }

        [Fact]
        public void A_failing_rebuild_leaves_the_corrupt_file_where_it_is()
        {
            using var temp = new TempState();
            File.WriteAllText(temp.StatePath, "garbage");
            var unreachable = new DyadPortsException(ErrorIds.EngineUnreachable, FailureCategory.ConnectionError, "unix:///x", "down");
            var e = Assert.Throws<DyadPortsException>(() => temp.Store.Read(_ => throw unreachable, new RecordingLog(), default));
            Assert.Equal(ErrorIds.EngineUnreachable, e.ErrorId);
            Assert.Equal("garbage", File.ReadAllText(temp.StatePath));
            Assert.Empty(Directory.GetFileSystemEntries(temp.Directory, "state.json.corrupt-*"));
        }

        [Theory]
        [InlineData("{\"appId\":\"b\",\"port\":21001}", "key")]
        [InlineData("{\"appId\":\"bad\",\"port\":0}", "port 0")]
        [InlineData("{\"appId\":\"bad\",\"port\":\"x\"}", "not a number")]
        [InlineData("17", "not an object")]
        public void One_malformed_record_is_dropped_by_name_and_the_others_are_kept(string bad, string what)
        {
            using var temp = new TempState();
            var content = "{\"version\":2,\"stateId\":\"00000000000000aa\",\"allocations\":{" +
                          "\"good1\":{\"appId\":\"good1\",\"port\":21000,\"engine\":\"Docker\",\"allocatedAt\":\"2026-01-01T00:00:00+00:00\"}," +
                          "\"bad\":" + bad + "," +
                          "\"good2\":{\"appId\":\"good2\",\"port\":21002,\"engine\":\"Podman\",\"allocatedAt\":\"2026-01-01T00:00:00+00:00\"}}}";
            File.WriteAllText(temp.StatePath, content);
            var log = new RecordingLog();
            var state = temp.Store.Read(NotCorrupt, log, default);
            Assert.Equal(new[] { "good1", "good2" }, state.Allocations.Keys);
            Assert.Equal("00000000000000aa", state.StateId);
            var warning = Assert.Single(log.Warnings);
            Assert.Contains("'bad'", warning);
            Assert.Contains(ErrorIds.StateFileCorrupt, warning);
            Assert.Equal(content, File.ReadAllText(Assert.Single(Directory.GetFiles(temp.Directory, "state.json.corrupt-*"))));
            Assert.Equal(new[] { "good1", "good2" }, temp.Store.Peek().Allocations.Keys);
            _ = what;
        }

        [Fact]
        public void A_recovered_file_stays_in_place_when_the_command_then_fails()
        {
            using var temp = new TempState();
            var content = "{\"version\":2,\"stateId\":\"00000000000000aa\",\"allocations\":{" +
                          "\"good\":{\"appId\":\"good\",\"port\":21000,\"engine\":\"Process\",\"allocatedAt\":\"2026-01-01T00:00:00+00:00\"}," +
                          "\"bad\":{\"appId\":\"other\",\"port\":21001}}}";
            File.WriteAllText(temp.StatePath, content);
            var full = new DyadPortsException(ErrorIds.PortRangeExhausted, FailureCategory.ResourceUnavailable, "21000", "full");
            Assert.Same(full, Assert.Throws<DyadPortsException>(() => temp.Store.Update<int>(s => throw full, NotCorrupt, new RecordingLog(), default)));
            Assert.Equal(content, File.ReadAllText(temp.StatePath)); // nothing moved away, nothing lost
            Assert.Equal(new[] { "good" }, temp.Store.Read(NotCorrupt, new RecordingLog(), default).Allocations.Keys);
        }

        /// <summary>
        /// A backup of the name a recovery would take is already there (a recovery in the same millisecond: a command that
        /// failed after recovering, then the next; seen in a CI run): it is kept as it is, and the recovery backs up under
        /// the next free name instead of failing. The names of the next 4 s are taken beforehand.
        /// </summary>
        [Fact]
        public void A_recovery_whose_backup_name_is_taken_keeps_that_file_and_backs_up_beside_it()
        {
            using var temp = new TempState();
            var content = "{\"version\":2,\"stateId\":\"00000000000000aa\",\"allocations\":{\"bad\":{\"appId\":\"other\",\"port\":21001}}}";
            File.WriteAllText(temp.StatePath, content);
            // The clock runs from the first name taken: writing the names on a loaded machine takes a while of the window.
            var now = DateTime.UtcNow;
            var clock = Stopwatch.StartNew();
            var taken = Enumerable.Range(-1, 4001)
                .Select(ms => $"{temp.StatePath}.corrupt-{now.AddMilliseconds(ms).ToString("yyyyMMddTHHmmssfff", System.Globalization.CultureInfo.InvariantCulture)}")
                .ToList();
            foreach (var path in taken) File.WriteAllText(path, "an earlier backup");
            var full = new DyadPortsException(ErrorIds.PortRangeExhausted, FailureCategory.ResourceUnavailable, "21000", "full");
            Assert.Same(full, Assert.Throws<DyadPortsException>(() => temp.Store.Update<int>(s => throw full, NotCorrupt, new RecordingLog(), default)));
            Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(3900), $"the names and the recovery took {clock.Elapsed.TotalMilliseconds:0} ms: past the names taken, the test proves nothing");
            Assert.All(taken, path => Assert.Equal("an earlier backup", File.ReadAllText(path)));
            var ours = Directory.GetFiles(Path.GetDirectoryName(temp.StatePath), Path.GetFileName(temp.StatePath) + ".corrupt-*").Except(taken).ToList();
            Assert.Single(ours);
            Assert.Matches(@"\.corrupt-\d{8}T\d{9}-2$", ours[0]);
            Assert.Equal(content, File.ReadAllText(ours[0]));
            Assert.Equal(content, File.ReadAllText(temp.StatePath));
        }

        [Fact]
        public void A_corrupt_file_that_cannot_be_backed_up_is_StateBackupFailed_and_left_as_it_is()
        {
            using var temp = new TempState();
            // A name of 240 bytes fits (NAME_MAX is 255); its backup's, 22 bytes longer, does not.
            var path = Path.Combine(temp.Directory, new string('s', 240));
            File.WriteAllText(path, "{ truncated");
            var e = Assert.Throws<DyadPortsException>(() => new StateStore(path).Read(id => new StateDocument(), new RecordingLog(), default));
            Assert.Equal((ErrorIds.StateBackupFailed, FailureCategory.WriteError, (object)path, true), (e.ErrorId, e.Category, e.Target, e.IsTerminating));
            Assert.Equal("{ truncated", File.ReadAllText(path));
        }

        [Fact]
        public void A_corrupt_file_with_no_engine_to_rebuild_from_is_left_exactly_as_it_is()
        {
            using var temp = new TempState();
            File.WriteAllText(temp.StatePath, "{ truncated");
            var allocator = new DyadPorts.Core.Allocation.PortAllocator(temp.Store, null, EngineKind.Process);
            var e = Assert.Throws<DyadPortsException>(() => allocator.Test(new[] { 21000 }, NullOperationLog.Instance, default));
            Assert.Equal(ErrorIds.StateFileCorrupt, e.ErrorId);
            Assert.True(e.IsTerminating);
            Assert.Equal("{ truncated", File.ReadAllText(temp.StatePath));
            Assert.Empty(Directory.GetFiles(temp.Directory, "state.json.corrupt-*"));
            // A missing file loses nothing: without an engine it simply starts empty.
            File.Delete(temp.StatePath);
            Assert.True(allocator.Test(new[] { 21000 }, NullOperationLog.Instance, default).Single().Available);
        }

        [Fact]
        public void A_newer_version_is_refused_and_left_byte_for_byte_with_no_backup()
        {
            using var temp = new TempState();
            var content = "{\"version\":99,\"stateId\":\"x\",\"allocations\":{\"a\":{\"appId\":\"a\",\"port\":21000,\"future\":true}}}";
            File.WriteAllText(temp.StatePath, content);
            var before = Directory.GetFileSystemEntries(temp.Directory).OrderBy(f => f).ToArray();
            var e = Assert.Throws<DyadPortsException>(() => temp.Store.Update(s => { s.Allocations.Clear(); return 0; }, NotCorrupt, new RecordingLog(), default));
            Assert.Equal(ErrorIds.StateFileNewerVersion, e.ErrorId);
            Assert.True(e.IsTerminating);
            Assert.Equal(temp.StatePath, e.Target);
            Assert.Contains("version 99", e.Message);
            Assert.Contains($"version {StateDocument.CurrentVersion}", e.Message);
            Assert.Contains(temp.StatePath, e.Message);
            Assert.Equal(content, File.ReadAllText(temp.StatePath));
            Assert.Equal(before.Concat(new[] { temp.StatePath + ".lock" }).Distinct().OrderBy(f => f), Directory.GetFileSystemEntries(temp.Directory).OrderBy(f => f));
            Assert.Null(temp.Store.Peek());
        }

        [Fact]
        public void A_version_1_file_migrates_forward_and_keeps_its_records()
        {
            using var temp = new TempState();
            File.WriteAllText(temp.StatePath, "{\"version\":1,\"allocations\":{\"a\":{\"appId\":\"a\",\"port\":21000,\"engine\":\"Docker\",\"containerId\":\"abc\",\"allocatedAt\":\"2026-01-01T00:00:00+00:00\"}}}");
            var log = new RecordingLog();
            var state = temp.Store.Read(NotCorrupt, log, default);
            Assert.Empty(log.Warnings);
            Assert.Equal("abc", state.Allocations["a"].ContainerId);
            var onDisk = temp.Store.Peek();
            Assert.Equal(StateDocument.CurrentVersion, onDisk.Version);
            Assert.Equal(temp.Store.DerivedStateId, onDisk.StateId);
            Assert.Empty(Directory.GetFiles(temp.Directory, "state.json.corrupt-*"));
        }

        [Theory]
        [InlineData("7", 7)]
        [InlineData("123456789012345678901234567890", 0)] // beyond a long: read as none, never an overflow
        [InlineData("-3", 0)]
        [InlineData("\"7\"", 0)]
        public void The_claim_counter_is_read_back_and_one_that_is_not_a_positive_count_is_read_as_none(string stored, long read)
        {
            using var temp = new TempState();
            File.WriteAllText(temp.StatePath, "{\"version\":2,\"stateId\":\"0123456789abcdef\",\"claimSequence\":" + stored + ",\"allocations\":{}}");
            Assert.Equal(read, temp.Store.Peek().ClaimSequence);
            Assert.Equal(read, temp.Store.Read(NotCorrupt, new RecordingLog(), default).ClaimSequence);
        }

        [Fact]
        public void A_malformed_counters_section_is_dropped_alone_and_the_samples_and_adopted_state_ids_are_kept()
        {
            using var temp = new TempState();
            File.WriteAllText(temp.StatePath, "{\"version\":2,\"stateId\":\"0123456789abcdef\",\"allocations\":{}," +
                "\"counters\":{\"Allocated\":null},\"activity\":{\"web\":{\"at\":\"2026-01-01T00:00:00+00:00\",\"preview\":\"c1\",\"value\":\"3\"}}," +
                "\"adoptedStateIds\":[\"fedcba9876543210\"]}");
            var log = new RecordingLog();
            var state = temp.Store.Read(NotCorrupt, log, default);
            Assert.Contains(log.Warnings, w => w.Contains("the counters are malformed", StringComparison.Ordinal));
            Assert.DoesNotContain(log.Warnings, w => w.Contains("activity", StringComparison.Ordinal));
            Assert.False(state.Counters.ContainsKey("Allocated")); // the malformed count; the repair counts its own StateRecovered
            Assert.Equal("3", state.Activity["web"].Value);
            Assert.True(state.Owns("fedcba9876543210"));
            var rewritten = temp.Store.Peek(); // the repaired file keeps them too
            Assert.True(rewritten.Owns("fedcba9876543210"));
            Assert.Equal("c1", rewritten.Activity["web"].Preview);
        }

        [Fact]
        public void A_missing_file_is_rebuilt_from_this_states_containers_when_there_are_any()
        {
            using var temp = new TempState();
            var state = temp.Store.Read(id => Rebuilt(("56", 21056)), new RecordingLog(), default);
            Assert.Equal(21056, state.Allocations["56"].Port);
            Assert.Equal(21056, temp.Store.Peek().Allocations["56"].Port);

            using var empty = new TempState();
            empty.Store.Read(id => new StateDocument(), new RecordingLog(), default);
            Assert.False(File.Exists(empty.StatePath)); // nothing to keep: no file is written by a read
        }

        [Fact]
        public void A_directory_in_place_of_the_file_is_moved_aside()
        {
            using var temp = new TempState();
            Directory.CreateDirectory(temp.StatePath);
            File.WriteAllText(Path.Combine(temp.StatePath, "keep.txt"), "x");
            var log = new RecordingLog();
            var state = temp.Store.Read(_ => Rebuilt(("7", 32107)), log, default);
            Assert.Equal(32107, state.Allocations["7"].Port);
            Assert.Contains("directory", Assert.Single(log.Warnings));
            var backup = Assert.Single(Directory.GetDirectories(temp.Directory, "state.json.corrupt-*"));
            Assert.True(File.Exists(Path.Combine(backup, "keep.txt")));
            Assert.True(File.Exists(temp.StatePath));
        }

        [Fact]
        public void Concurrent_updates_from_many_threads_lose_nothing()
        {
            using var temp = new TempState();
            Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
            {
                var store = new StateStore(temp.StatePath); // separate instances, as separate runspaces would have
                store.Update(s => { s.Allocations["app" + i] = new AllocationRecord { AppId = "app" + i, Port = 1000 + s.Allocations.Count }; return 0; }, _ => new StateDocument(), NullOperationLog.Instance, default);
            });
            var state = temp.Store.Read(_ => new StateDocument(), NullOperationLog.Instance, default);
            Assert.Equal(64, state.Allocations.Count);
            Assert.Equal(64, state.Allocations.Values.Select(a => a.Port).Distinct().Count());
        }

        [Fact]
        public async Task A_held_lock_makes_others_wait_and_cancellation_is_honoured()
        {
            using var temp = new TempState();
            using var release = new ManualResetEventSlim();
            using var entered = new ManualResetEventSlim();
            var holder = Task.Run(() => temp.Store.Update(s => { entered.Set(); release.Wait(); return 0; }, _ => new StateDocument(), NullOperationLog.Instance, default));
            entered.Wait();
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            Assert.ThrowsAny<OperationCanceledException>(() => new StateStore(temp.StatePath).Update(s => 0, _ => new StateDocument(), NullOperationLog.Instance, cts.Token));
            release.Set();
            await holder;
        }

        [Fact]
        public void Peek_never_repairs()
        {
            using var temp = new TempState();
            File.WriteAllText(temp.StatePath, "garbage");
            Assert.Null(temp.Store.Peek());
            Assert.Equal("garbage", File.ReadAllText(temp.StatePath));
        }

        [Fact]
        public void State_path_follows_the_override_then_xdg()
        {
            Assert.Equal("/x/s.json", StateStore.ResolvePath(v => v == "DYAD_PORTS_STATE" ? "/x/s.json" : null));
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal("/xdg/dyadports/state.json", StateStore.ResolvePath(v => v == "XDG_STATE_HOME" ? "/xdg" : null));
            }
        }
    }
}
