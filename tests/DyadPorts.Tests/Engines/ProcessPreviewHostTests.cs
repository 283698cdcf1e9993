using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Previews;
using DyadPorts.Core.State;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>The process engine's own processes: the log handed over as a descriptor, exact start times, no Process object kept. Ports 21950-21959.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public sealed class ProcessPreviewHostTests : IDisposable
    {
        private readonly TempState _temp = new TempState();
        private readonly string _app;

        public ProcessPreviewHostTests()
        {
            _app = Path.Combine(_temp.Directory, "app");
            Directory.CreateDirectory(_app);
        }

        public void Dispose() => _temp.Dispose();

        private PreviewRequest Request(string command) => new PreviewRequest { AppId = TestRun.App("ph"), Path = _app, Command = new[] { command }, Range = new PortRange(21950, 21959) };

        [Fact]
        public void The_log_is_written_through_the_handed_descriptor_never_reopened_by_its_name()
        {
            var logPath = ProcessPreviewHost.LogPath(_temp.Store, TestRun.App("ph"));
            using var process = ProcessPreviewHost.Start(Request("sleep 1; echo out; echo err >&2; echo \"fd=${DYADPORTS_LOG_FD:-unset}\""), 21950, logPath);
            // Swap the log's name at once: a shell that opened the log by name would now write into the victim.
            var moved = logPath + ".moved";
            File.Move(logPath, moved);
            var victim = Path.Combine(_temp.Directory, "victim.txt");
            File.WriteAllText(victim, "precious");
            File.CreateSymbolicLink(logPath, victim);
            Assert.True(process.WaitForExit(20_000));
            Assert.Equal("precious", File.ReadAllText(victim));
            Assert.Equal(new[] { "out", "err", "fd=unset" }, File.ReadAllLines(moved));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(moved));
        }

        [Fact]
        public void A_recorded_process_matches_only_its_exact_start_ticks_and_a_0_2_0_record_its_old_tolerance()
        {
            using var child = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false });
            try
            {
                var ticks = ProcessStartTicks.Of(child.Id);
                Assert.NotNull(ticks);
                Assert.Equal(ticks, ProcessStartTicks.Of(child.Id)); // the same on every read
                var startedAt = PreviewProcesses.StartedAt(child).Value;
                AllocationRecord Record(long? t, DateTimeOffset at) => new AllocationRecord { AppId = TestRun.App("ph"), Port = 21951, Engine = EngineKind.Process, ProcessId = child.Id, ProcessStartedAt = at, ProcessStartTicks = t };

                Assert.True(PreviewProcesses.IsAlive(Record(ticks, startedAt)));
                Assert.False(PreviewProcesses.IsAlive(Record(ticks + 1, startedAt))); // 10 ms later: another process, whatever the wall clock says
                Assert.True(PreviewProcesses.IsAlive(Record(null, startedAt.AddSeconds(1))));   // 0.2.0 record
                Assert.False(PreviewProcesses.IsAlive(Record(null, startedAt.AddSeconds(3))));

                // Stop kills nothing that is not provably the recorded process.
                var log = new RecordingLog();
                Assert.Equal("exited", ProcessPreviewHost.StopRecorded(Record(ticks + 1, startedAt), log).State);
                Assert.False(child.HasExited);
                Assert.Contains(log.Warnings, w => w.Contains($"pid {child.Id} now belongs to another process", StringComparison.Ordinal) && w.Contains("left alone", StringComparison.Ordinal));
                ProcessPreviewHost.StopRecorded(Record(ticks, startedAt), log);
                Assert.True(child.WaitForExit(10_000));
            }
            finally
            {
                if (!child.HasExited) child.Kill();
            }
        }

        [Fact]
        public void A_launched_preview_records_its_start_ticks_and_lets_go_of_its_process_object_once_described()
        {
            var host = new ProcessPreviewHost(_temp.Store);
            var launched = host.Launch(Request("exec sleep 30"), 21952, "state", NullOperationLog.Instance, CancellationToken.None);
            var pid = launched.ProcessId.Value;
            try
            {
                Assert.Equal(ProcessStartTicks.Of(pid), launched.ProcessStartTicks);
                Assert.NotNull(launched.ProcessStartTicks);
                var preview = host.Describe(launched, CancellationToken.None);
                Assert.Equal(pid, preview.ProcessId);
                Assert.Throws<InvalidOperationException>(() => launched.Process.HasExited); // disposed: no handle kept
            }
            finally
            {
                using var p = PreviewProcesses.TryGet(pid);
                p?.Kill();
                p?.WaitForExit(10_000);
            }
        }
    }
}
