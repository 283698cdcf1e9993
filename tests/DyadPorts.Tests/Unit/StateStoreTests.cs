using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.State;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    public class StateStoreTests
    {
        private static StateDocument Rebuilt(params (string app, int port)[] records)
        {
            var d = new StateDocument();
            foreach (var (app, port) in records) d.Allocations[app] = new AllocationRecord { AppId = app, Port = port, Engine = EngineKind.Docker };
            return d;
        }

        [Fact]
        public void Writes_round_trip_and_the_file_is_private()
        {
            using var temp = new TempState();
            temp.Store.Update(s => { s.Allocations["a"] = new AllocationRecord { AppId = "a", Port = 32100 }; return 0; }, () => new StateDocument(), NullOperationLog.Instance, default);
            var read = temp.Store.Read(() => throw new InvalidOperationException("not corrupt"), NullOperationLog.Instance, default);
            Assert.Equal(32100, read.Allocations["a"].Port);
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(temp.StatePath));
            }
            Assert.Empty(Directory.GetFiles(temp.Directory, "*.tmp"));
        }

        [Theory]
        [InlineData("garbage{{{")]
        [InlineData("{\"version\":1,\"allocations\":{\"a\":{\"appId\":\"a\",\"po")]
        [InlineData("")]
        [InlineData("{\"version\":1,\"allocations\":{\"a\":{\"appId\":\"b\",\"port\":1}}}")]
        public void A_corrupt_file_is_backed_up_rebuilt_and_warned_about(string content)
        {
            using var temp = new TempState();
            File.WriteAllText(temp.StatePath, content);
            var log = new RecordingLog();
            var state = temp.Store.Read(() => Rebuilt(("56", 32100)), log, default);
            Assert.Equal(32100, state.Allocations["56"].Port);
            var warning = Assert.Single(log.Warnings);
            Assert.Contains(ErrorIds.StateFileCorrupt, warning);
            var backup = Assert.Single(Directory.GetFileSystemEntries(temp.Directory, "state.json.corrupt-*"));
            Assert.Equal(content, File.ReadAllText(backup));
            Assert.Null(StateStore.Validate(File.ReadAllText(temp.StatePath), out _));
        }

        [Fact]
        public void A_directory_in_place_of_the_file_is_moved_aside()
        {
            using var temp = new TempState();
            Directory.CreateDirectory(temp.StatePath);
            File.WriteAllText(Path.Combine(temp.StatePath, "keep.txt"), "x");
            var log = new RecordingLog();
            var state = temp.Store.Read(() => Rebuilt(("7", 32107)), log, default);
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
                store.Update(s => { s.Allocations["app" + i] = new AllocationRecord { AppId = "app" + i, Port = 1000 + s.Allocations.Count }; return 0; }, () => new StateDocument(), NullOperationLog.Instance, default);
            });
            var state = temp.Store.Read(() => new StateDocument(), NullOperationLog.Instance, default);
            Assert.Equal(64, state.Allocations.Count);
            Assert.Equal(64, state.Allocations.Values.Select(a => a.Port).Distinct().Count());
        }

        [Fact]
        public async Task A_held_lock_makes_others_wait_and_cancellation_is_honoured()
        {
            using var temp = new TempState();
            using var release = new ManualResetEventSlim();
            using var entered = new ManualResetEventSlim();
            var holder = Task.Run(() => temp.Store.Update(s => { entered.Set(); release.Wait(); return 0; }, () => new StateDocument(), NullOperationLog.Instance, default));
            entered.Wait();
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            Assert.ThrowsAny<OperationCanceledException>(() => new StateStore(temp.StatePath).Update(s => 0, () => new StateDocument(), NullOperationLog.Instance, cts.Token));
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
