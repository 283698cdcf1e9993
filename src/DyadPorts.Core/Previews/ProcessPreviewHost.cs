using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using DyadPorts.Core.Availability;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Previews
{
    /// <summary>
    /// The process engine, dyad desktop's own mode: the preview runs as a host child process with PORT set.
    /// Its output goes to a log file beside the state, so it outlives the PowerShell session that started it.
    /// A recorded pid is killed only when the process with that pid started at the recorded time.
    /// </summary>
    internal sealed class ProcessPreviewHost : IPreviewHost
    {
        private const int LogLines = 20;
        // The user's command travels in the environment, never pasted into the script text. The output goes to the log
        // descriptor the child inherited (DYADPORTS_LOG_FD, a number DyadPorts sets), through /dev/fd/N: that opens the
        // very file the descriptor holds, not whatever a name points to now, so the log is never reopened by its path
        // (which only the 0700 folder would protect). dash, Debian's /bin/sh, takes only one-digit descriptors in
        // redirections (">&57" is "Bad fd number"), hence /dev/fd rather than ">&$DYADPORTS_LOG_FD"; for the same reason
        // the inherited descriptor stays open in the preview: one more handle on its own log.
        private const string Redirect = "exec >>\"/dev/fd/$DYADPORTS_LOG_FD\" 2>&1 </dev/null; unset DYADPORTS_LOG_FD; ";
        private const string ShellScript = Redirect + "eval \"$DYADPORTS_COMMAND\"";
        private const string ExecScript = Redirect + "exec \"$@\"";
        /// <summary>One start at a time holds an inheritable log descriptor, so one start's log never leaks into another's child.</summary>
        private static readonly object StartGate = new object();
        private readonly string _logFolder;
        private readonly IHostPortProbe _host;

        /// <summary>Logs in a logs folder beside the state file.</summary>
        public ProcessPreviewHost(StateStore store, IHostPortProbe host = null) : this(LogFolder(store), host)
        {
        }

        /// <summary>Logs in <paramref name="logFolder"/> (a fleet state has no folder of its own: this machine's is given).</summary>
        public ProcessPreviewHost(string logFolder, IHostPortProbe host = null)
        {
            _logFolder = logFolder ?? throw new ArgumentNullException(nameof(logFolder));
            _host = host ?? HostPortProbe.Instance;
        }

        public EngineKind Kind => EngineKind.Process;

        public Preview ReuseOrClear(string appId, StateDocument state, EngineSnapshot snapshot, IOperationLog log, CancellationToken ct, out bool cleared)
        {
            cleared = false;
            if (state.Allocations.TryGetValue(appId, out var existing) && PreviewProcesses.IsAlive(existing))
            {
                return Describe(existing);
            }
            return null;
        }

        public void Prepare(PreviewRequest request, IOperationLog log, CancellationToken ct)
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                throw new DyadPortsException(ErrorIds.PreviewCommandFailed, FailureCategory.InvalidOperation, request.AppId,
                    "The process engine runs previews through /bin/sh and is available on Linux and macOS; on Windows use -Engine Docker or Podman.");
            }
        }

        public LaunchedPreview Launch(PreviewRequest request, int port, string stateId, IOperationLog log, CancellationToken ct)
        {
            // No engine arbitrates here: the last-moment probe plays its part.
            if (!_host.IsFree(port)) throw new PortTakenException(port, "a host process listens on it now");
            var logPath = Path.Combine(_logFolder, request.AppId + ".log");
            log.Verbose($"App {request.AppId}: starting the preview process on port {port} in {request.Path}; output goes to {logPath}.");
            var process = Start(request, port, logPath);
            var startedAt = PreviewProcesses.StartedAt(process);
            var startTicks = ProcessStartTicks.Of(process.Id);
            if (startedAt == null)
            {
                // It exited before its start time could be read: nothing can prove a later process with that pid is ours.
                var tail = LogTail(logPath, LogLines);
                process.Dispose();
                throw new DyadPortsException(ErrorIds.PreviewExitedEarly, FailureCategory.InvalidOperation, request.AppId,
                    $"The preview process of app {request.AppId} exited at once, before it could be recorded. Nothing was left running and its port was released. Last log lines:{Environment.NewLine}{tail}");
            }
            return new LaunchedPreview { AppId = request.AppId, Port = port, Process = process, ProcessId = process.Id, ProcessStartedAt = startedAt, ProcessStartTicks = startTicks, LogPath = logPath };
        }

        public bool StillRunning(LaunchedPreview preview, CancellationToken ct) => !preview.Process.HasExited;

        public string Logs(LaunchedPreview preview, CancellationToken ct) => LogTail(preview.LogPath, LogLines);

        public void Discard(LaunchedPreview preview, string stateId, IOperationLog log)
        {
            // The Process object is the one this start created: it is ours without any guess.
            if (preview.Process == null) return;
            using (preview.Process)
            {
                try
                {
                    if (!preview.Process.HasExited && Kill(preview.Process) is string left)
                    {
                        // The failure that brought us here is the one to report; what survived is said beside it.
                        log.Warning($"App {preview.AppId}: its failed preview process {preview.ProcessId} was killed, but not every process of its tree: {left}");
                    }
                }
                catch (InvalidOperationException)
                {
                    // exited meanwhile
                }
            }
        }

        public Preview Describe(LaunchedPreview preview, CancellationToken ct)
        {
            // The start succeeded: the state names the process from now on, and the Process object is let go.
            preview.Process?.Dispose();
            return Running(preview.AppId, preview.Port, preview.ProcessId, preview.ProcessStartedAt);
        }

        private static Preview Describe(AllocationRecord record) => Running(record.AppId, record.Port, record.ProcessId, record.ProcessStartedAt);

        private static Preview Running(string appId, int port, int? processId, DateTimeOffset? startedAt) => new Preview
        {
            AppId = appId,
            Port = port,
            Url = ReadinessWaiter.Url(port),
            ProcessId = processId,
            Engine = EngineKind.Process,
            State = "running",
            StartedAt = startedAt,
        };

        public Preview Stop(string appId, AllocationRecord record, StateDocument state, EngineSnapshot snapshot, bool remove, IOperationLog log, CancellationToken ct) =>
            StopRecorded(record, log);

        /// <summary>
        /// Stops the preview process a record names, if it provably is the one DyadPorts started: same pid and
        /// same start time. An unknown start time proves nothing: warn, kill nothing. Null when there is no pid.
        /// </summary>
        public static Preview StopRecorded(AllocationRecord record, IOperationLog log)
        {
            if (record?.ProcessId == null) return null;
            var result = new Preview { AppId = record.AppId, Port = record.Port, ProcessId = record.ProcessId, Engine = EngineKind.Process, State = "exited" };
            if (!record.ProcessStartedAt.HasValue)
            {
                log.Warning($"App {record.AppId}: the state names process {record.ProcessId} but not its start time, so nothing proves that process is the preview DyadPorts started. It was not touched.");
                result.State = "unknown";
                return result;
            }
            // One Process object for the check and the kill: the process killed is the process checked.
            var process = PreviewProcesses.TryGet(record.ProcessId.Value);
            using (process)
            {
                if (process == null)
                {
                    log.Verbose($"App {record.AppId}: its preview process {record.ProcessId} no longer runs.");
                    return result;
                }
                if (!PreviewProcesses.IsRecorded(record, process))
                {
                    log.Warning($"App {record.AppId}: pid {record.ProcessId} now belongs to another process (its start time is not the recorded one), so its preview has exited. That process was left alone.");
                    return result;
                }
                string left;
                try
                {
                    left = Kill(process);
                }
                catch (Exception e) when (e is InvalidOperationException || e is System.ComponentModel.Win32Exception)
                {
                    // It exited by itself meanwhile.
                    return result;
                }
                if (left != null)
                {
                    // Part of its tree lives on (another user's process, say) and may still hold the port: the
                    // allocation is kept, and this app fails, not the command.
                    throw new DyadPortsException(ErrorIds.PreviewStopFailed, FailureCategory.PermissionDenied, record.AppId,
                        $"App {record.AppId}: its preview process {record.ProcessId} could not be stopped with every process of its tree: {left} Its allocation was kept.");
                }
                log.Verbose($"App {record.AppId}: stopped its preview process {record.ProcessId}.");
            }
            return result;
        }

        public ICollection<string> Reclaim(IReadOnlyList<(int Port, ContainerSummary Container)> orphans, IOperationLog log, CancellationToken ct) => Array.Empty<string>();

        public static string LogPath(StateStore store, string appId) => Path.Combine(LogFolder(store), appId + ".log");

        /// <summary>The logs folder beside a state file, or under a local folder (<c>DyadSettings.LocalFolder</c>).</summary>
        public static string LogFolder(StateStore store) => LogFolderIn(Path.GetDirectoryName(store.Path) ?? ".");

        public static string LogFolderIn(string folder) => Path.Combine(folder, "logs");

        /// <summary>
        /// Starts /bin/sh with the command, PORT set and output to the log; the arguments travel as an ArgumentList, never
        /// quoted by us. The log is opened once, safely (no symlink, no other user's file, 0600), and its descriptor is
        /// handed to the child: nobody reopens it by name. Linux and macOS only (Prepare refuses Windows).
        /// </summary>
        internal static Process Start(PreviewRequest request, int port, string logPath)
        {
            // The log folder and file follow the state's rules: a private folder of ours, no symlink, no other user's
            // file, so a planted link can never make the preview's output overwrite someone else's file.
            SafeFiles.EnsureFolder(Path.GetDirectoryName(logPath));
            var arguments = request.IsShellCommand
                ? new[] { "-c", ShellScript }
                : new[] { "-c", ExecScript, "dyadports-preview" }.Concat(request.Command);
            var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = request.Path };
            foreach (var argument in arguments) info.ArgumentList.Add(argument);
            info.Environment["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            info.Environment["VITE_PORT"] = info.Environment["PORT"];
            info.Environment["DYADPORTS_LOG"] = logPath;
            info.Environment["DYADPORTS_APP_ID"] = request.AppId;
            if (request.IsShellCommand) info.Environment["DYADPORTS_COMMAND"] = request.ShellCommand;
            try
            {
                using (var log = SafeFiles.OpenOwned(logPath, 1 /* O_WRONLY */ | UnixFiles.Create | UnixFiles.Truncate | UnixFiles.Append, "preview log"))
                {
                    lock (StartGate)
                    {
                        // DyadPorts opens every file close-on-exec; this duplicate alone is inherited, by this start's child.
                        // A process that some other code of this PowerShell starts in the same instant may inherit it too:
                        // it then holds one more descriptor of this log, and can do nothing with it the preview could not.
                        using (var inheritable = UnixFiles.DuplicateInheritable(log))
                        {
                            info.Environment["DYADPORTS_LOG_FD"] = inheritable.DangerousGetHandle().ToInt32().ToString(System.Globalization.CultureInfo.InvariantCulture);
                            return Process.Start(info);
                        }
                    }
                }
            }
            catch (IOException e)
            {
                throw new DyadPortsException(ErrorIds.PreviewLogFailed, FailureCategory.WriteError, logPath, $"App {request.AppId}: could not open its preview log '{logPath}': {e.Message}", e);
            }
            catch (DyadPortsException e) when (e.ErrorId == ErrorIds.StateWriteFailed || e.ErrorId == ErrorIds.StateFileUnsafe)
            {
                // This app's log (a folder or a link where it goes, say): this app fails, not every app of the command.
                throw new DyadPortsException(ErrorIds.PreviewLogFailed, e.Category, logPath, $"App {request.AppId}: its preview log cannot be used: {e.Message}", e);
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception || e is InvalidOperationException)
            {
                throw new DyadPortsException(ErrorIds.PreviewCommandFailed, FailureCategory.InvalidOperation, request.AppId,
                    $"Could not start the preview process for app {request.AppId}: {e.Message}", e);
            }
        }

        /// <summary>
        /// Kills the process and its tree. Null when all of it was killed; otherwise what could not be (.NET kills what it
        /// can and reports the rest together, as an <see cref="AggregateException"/>).
        /// </summary>
        private static string Kill(Process process)
        {
            string left = null;
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (AggregateException e)
            {
                left = string.Join("; ", e.Flatten().InnerExceptions.Select(inner => inner.Message).Distinct());
            }
            process.WaitForExit(5000);
            return left;
        }

        /// <summary>The log's last lines, read by the safe-file rules (never through a link, never another user's file).</summary>
        public static string LogTail(string logPath, int lines)
        {
            try
            {
                var bytes = SafeFiles.ReadOwned(logPath, "preview log", allowFolder: false, out _);
                if (bytes == null) return "(no log)";
                var text = new System.Text.UTF8Encoding(false).GetString(bytes);
                var all = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
                if (all.Count > 0 && all[^1].Length == 0) all.RemoveAt(all.Count - 1);
                return string.Join(Environment.NewLine, all.TakeLast(lines));
            }
            catch (DyadPortsException e)
            {
                return $"(no log: {e.Message})";
            }
        }
    }
}
