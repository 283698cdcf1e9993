using System;
using System.Diagnostics;
using System.IO;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.State;
using DyadPorts.Tests.Support;
using DyadPorts;
using Xunit;

namespace DyadPorts.Tests.State
{
    /// <summary>State files in shared folders: no symlink is followed, no other user's file is touched, no open folder is trusted.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public class StateFileSafetyTests
    {
        private const string OtherUser = "dyadports-other";

        private static void Update(StateStore store) =>
            store.Update(s => { s.Allocations["a"] = new AllocationRecord { AppId = "a", Port = 21000 }; return 0; }, _ => new StateDocument(), NullOperationLog.Instance, default);

        private static DyadPortsException Refused(StateStore store)
        {
            var e = Assert.Throws<DyadPortsException>(() => Update(store));
            Assert.Equal(ErrorIds.StateFileUnsafe, e.ErrorId);
            Assert.Equal(FailureCategory.SecurityError, e.Category);
            Assert.True(e.IsTerminating);
            return e;
        }

        [Fact]
        public void A_symlinked_lock_file_is_refused_and_its_target_keeps_its_mode_and_content()
        {
            Assert.False(OperatingSystem.IsWindows(), "these rules are for Unix");
            using var temp = new TempState();
            var victim = Path.Combine(temp.Directory, "victim.txt");
            File.WriteAllText(victim, "precious");
            File.SetUnixFileMode(victim, (UnixFileMode)Convert.ToInt32("644", 8));
            File.CreateSymbolicLink(temp.StatePath + ".lock", victim);
            var e = Refused(temp.Store);
            Assert.Contains("symbolic link", e.Message);
            Assert.Equal(temp.StatePath + ".lock", e.Target);
            Assert.Equal((UnixFileMode)Convert.ToInt32("644", 8), File.GetUnixFileMode(victim));
            Assert.Equal("precious", File.ReadAllText(victim));
            Assert.False(File.Exists(temp.StatePath));
        }

        [Fact]
        public void A_symlinked_state_file_is_refused_and_its_target_is_untouched()
        {
            using var temp = new TempState();
            var victim = Path.Combine(temp.Directory, "victim.json");
            File.WriteAllText(victim, "{\"version\":2,\"stateId\":\"x\",\"allocations\":{}}");
            File.SetUnixFileMode(victim, (UnixFileMode)Convert.ToInt32("644", 8));
            File.CreateSymbolicLink(temp.StatePath, victim);
            var e = Refused(temp.Store);
            Assert.Equal(temp.StatePath, e.Target);
            Assert.Equal("{\"version\":2,\"stateId\":\"x\",\"allocations\":{}}", File.ReadAllText(victim));
            Assert.Equal((UnixFileMode)Convert.ToInt32("644", 8), File.GetUnixFileMode(victim));
            Assert.True(new FileInfo(temp.StatePath).LinkTarget != null, "the link itself stays");
            Assert.Null(temp.Store.Peek());
        }

        [Fact]
        public void A_state_file_owned_by_another_user_is_refused_and_left_alone()
        {
            Assert.True(Environment.UserName == "root", "changing a file's owner needs root; the suite runs as root");
            EnsureOtherUser();
            using var temp = new TempState();
            File.WriteAllText(temp.StatePath, "{\"version\":2,\"stateId\":\"x\",\"allocations\":{}}");
            File.SetUnixFileMode(temp.StatePath, (UnixFileMode)Convert.ToInt32("644", 8));
            Run("chown", OtherUser, temp.StatePath);
            var e = Refused(temp.Store);
            Assert.Contains("belongs to user id", e.Message);
            Assert.Equal((UnixFileMode)Convert.ToInt32("644", 8), File.GetUnixFileMode(temp.StatePath));
            Assert.Equal("{\"version\":2,\"stateId\":\"x\",\"allocations\":{}}", File.ReadAllText(temp.StatePath));
        }

        [Fact]
        public void A_lock_file_owned_by_another_user_is_refused_and_keeps_its_mode()
        {
            Assert.True(Environment.UserName == "root", "changing a file's owner needs root; the suite runs as root");
            EnsureOtherUser();
            using var temp = new TempState();
            File.WriteAllText(temp.StatePath + ".lock", "");
            File.SetUnixFileMode(temp.StatePath + ".lock", (UnixFileMode)Convert.ToInt32("666", 8));
            Run("chown", OtherUser, temp.StatePath + ".lock");
            Refused(temp.Store);
            Assert.Equal((UnixFileMode)Convert.ToInt32("666", 8), File.GetUnixFileMode(temp.StatePath + ".lock"));
        }

        [Fact]
        public void A_folder_others_can_write_is_refused_unless_it_is_sticky()
        {
            using var temp = new TempState();
            var open = Path.Combine(temp.Directory, "open");
            Directory.CreateDirectory(open);
            File.SetUnixFileMode(open, (UnixFileMode)Convert.ToInt32("777", 8));
            var store = new StateStore(Path.Combine(open, "state.json"));
            var e = Refused(store);
            Assert.Contains("sticky", e.Message);
            Assert.False(File.Exists(Path.Combine(open, "state.json.lock")));

            File.SetUnixFileMode(open, (UnixFileMode)Convert.ToInt32("1777", 8)); // like /tmp
            Update(store);
            Assert.Equal(21000, store.Peek().Allocations["a"].Port);
        }

        [Fact]
        public void A_hard_linked_lock_file_is_refused_and_its_other_name_keeps_its_mode()
        {
            using var temp = new TempState();
            var victim = Path.Combine(temp.Directory, "victim.txt");
            File.WriteAllText(victim, "precious");
            File.SetUnixFileMode(victim, (UnixFileMode)Convert.ToInt32("644", 8));
            Assert.Equal(0, Run("ln", victim, temp.StatePath + ".lock"));
            var e = Refused(temp.Store);
            Assert.Contains("hard links", e.Message);
            Assert.Equal((UnixFileMode)Convert.ToInt32("644", 8), File.GetUnixFileMode(victim));
            Assert.Equal("precious", File.ReadAllText(victim));
        }

        [Fact]
        public void A_fifo_in_place_of_the_state_file_is_refused_at_once_not_waited_on()
        {
            using var temp = new TempState();
            Assert.Equal(0, Run("mkfifo", temp.StatePath));
            var watch = Stopwatch.StartNew();
            var e = Refused(temp.Store);
            Assert.Contains("not a regular file", e.Message);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
        }

        [Fact]
        public void A_state_folder_owned_by_another_user_is_refused()
        {
            Assert.True(Environment.UserName == "root", "changing a folder's owner needs root; the suite runs as root");
            EnsureOtherUser();
            using var temp = new TempState();
            var theirs = Path.Combine(temp.Directory, "theirs");
            Directory.CreateDirectory(theirs);
            File.SetUnixFileMode(theirs, (UnixFileMode)Convert.ToInt32("1777", 8)); // sticky, yet theirs: they may swap our files
            Assert.Equal(0, Run("chown", OtherUser, theirs));
            var e = Refused(new StateStore(Path.Combine(theirs, "state.json")));
            Assert.Contains("belongs to user id", e.Message);
            Assert.Empty(Directory.GetFileSystemEntries(theirs));
        }

        [Fact]
        public void A_file_that_cannot_be_opened_for_reading_is_a_read_error_not_a_write_error()
        {
            using var temp = new TempState();
            File.WriteAllText(temp.StatePath, "{}");
            var e = Assert.Throws<DyadPortsException>(() => SafeFiles.ReadOwned(Path.Combine(temp.StatePath, "child"), "state file", false, out _)); // ENOTDIR
            Assert.Equal(ErrorIds.StateReadFailed, e.ErrorId);
            Assert.Equal(FailureCategory.ReadError, e.Category);
            Assert.True(e.IsTerminating);
            var w = Assert.Throws<DyadPortsException>(() => SafeFiles.CreateOwned(Path.Combine(temp.StatePath, "child"), new byte[1], "state backup"));
            Assert.Equal(ErrorIds.StateWriteFailed, w.ErrorId);
        }

        [Fact]
        public void Usage_and_metrics_still_answer_when_the_history_is_a_planted_symlink()
        {
            using var temp = new TempState();
            var victim = temp.PlantLink(temp.Store.Journal.Path);
            var allocator = new DyadPorts.Core.Allocation.PortAllocator(temp.Store, null, EngineKind.Process);
            var log = new RecordingLog();
            allocator.Request("a", new DyadPorts.Core.Allocation.PortRange(21900, 21909), false, log, default);
            log.Warnings.Clear(); // the write's own warning: the history could not be appended to

            var usage = allocator.Usage(new DyadPorts.Core.Allocation.PortRange(21900, 21909), log, default);

            Assert.Equal(10, usage.Total);
            Assert.Equal(1, usage.HeldByAllocation);
            Assert.Contains(log.Warnings, w => w.StartsWith(ErrorIds.StateFileUnsafe, StringComparison.Ordinal) && w.Contains("symbolic link", StringComparison.Ordinal));
            Assert.Contains("dyadports_ports_free", DyadPorts.Core.Insights.PrometheusText.Build(usage));
            Assert.Equal("precious", File.ReadAllText(victim));
        }

        private static void EnsureOtherUser()
        {
            if (Run("id", OtherUser) == 0) return;
            Assert.Equal(0, Run("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", OtherUser));
        }

        private static int Run(string program, params string[] arguments)
        {
            var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in arguments) info.ArgumentList.Add(a);
            using var process = Process.Start(info);
            process.WaitForExit();
            return process.ExitCode;
        }
    }
}
