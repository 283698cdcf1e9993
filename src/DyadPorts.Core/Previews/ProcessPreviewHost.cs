using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Previews
{
    /// <summary>
    /// The process engine, dyad desktop's own mode: the preview runs as a host child process with PORT set.
    /// Its output goes to a log file beside the state, so it outlives the PowerShell session that started it.
    /// </summary>
    public static class ProcessPreviewHost
    {
        // The user's command travels in the environment, never pasted into the script text.
        private const string ShellScript = "exec >>\"$DYADPORTS_LOG\" 2>&1 </dev/null; eval \"$DYADPORTS_COMMAND\"";
        private const string ExecScript = "exec >>\"$DYADPORTS_LOG\" 2>&1 </dev/null; exec \"$@\"";

        public static string LogPath(StateStore store, string appId) =>
            Path.Combine(Path.GetDirectoryName(store.Path) ?? ".", "logs", appId + ".log");

        public static Process Start(PreviewRequest request, int port, string logPath)
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                throw new DyadPortsException(ErrorIds.PreviewCommandFailed, FailureCategory.InvalidOperation, request.AppId,
                    "The process engine runs previews through /bin/sh and is available on Linux and macOS; on Windows use -Engine Docker or Podman.");
            }
            Directory.CreateDirectory(Path.GetDirectoryName(logPath));
            File.WriteAllText(logPath, string.Empty);
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
                return Process.Start(info);
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception || e is InvalidOperationException)
            {
                throw new DyadPortsException(ErrorIds.PreviewCommandFailed, FailureCategory.InvalidOperation, request.AppId,
                    $"Could not start the preview process for app {request.AppId}: {e.Message}", e);
            }
        }

        /// <summary>Stops a preview process and its children, if it is still the one recorded.</summary>
        public static bool Stop(AllocationRecord record)
        {
            if (!PreviewProcesses.IsAlive(record)) return false;
            using (var process = PreviewProcesses.TryGet(record.ProcessId.Value))
            {
                if (process == null) return false;
                try
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(5000);
                }
                catch (Exception e) when (e is InvalidOperationException || e is System.ComponentModel.Win32Exception)
                {
                    // It exited by itself meanwhile.
                }
                return true;
            }
        }

        public static string LogTail(string logPath, int lines)
        {
            try
            {
                return string.Join(Environment.NewLine, File.ReadAllLines(logPath).TakeLast(lines));
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                return "(no log)";
            }
        }
    }
}
