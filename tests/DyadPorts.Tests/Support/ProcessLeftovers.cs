using System;
using System.IO;

namespace DyadPorts.Tests.Support
{
    /// <summary>
    /// The files a .NET process (pwsh among them) keeps in its temporary folder while it runs, which only a normal exit
    /// removes: the debugger's pipes (clr-debug-pipe-PID-START-in and -out), the diagnostics socket
    /// (dotnet-diagnostic-PID-START-socket) and PowerShell's host pipe (CoreFxPipe_PSHost.*.PID.None.*). A test that
    /// stops a child of its own with a signal removes them after it: by the child's pid and start time (clock ticks
    /// since boot, /proc/PID/stat), read while it ran, and only once no process has that pid. tests/pester/Common.ps1
    /// does the same for the Pester files (Remove-ProcessLeftovers).
    /// </summary>
    public static class ProcessLeftovers
    {
        /// <summary>The start time of a running process in clock ticks since boot (field 22 of /proc/PID/stat); null when there is none.</summary>
        public static string StartTicks(int pid)
        {
            string stat;
            try { stat = File.ReadAllText($"/proc/{pid}/stat"); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { return null; }
            // After the last ')': the command name in parentheses may hold spaces. Field 3 (state) is the first there.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields.Length > 19 ? fields[19] : null;
        }

        /// <summary>Removes what the process <paramref name="pid"/> started at <paramref name="startTicks"/> left in <paramref name="tempFolder"/>; nothing while a process has that pid.</summary>
        public static void Remove(int pid, string startTicks, string tempFolder)
        {
            if (startTicks == null || Directory.Exists($"/proc/{pid}")) return;
            foreach (var name in new[] { $"clr-debug-pipe-{pid}-{startTicks}-in", $"clr-debug-pipe-{pid}-{startTicks}-out", $"dotnet-diagnostic-{pid}-{startTicks}-socket" })
            {
                Delete(Path.Combine(tempFolder, name));
            }
            foreach (var path in Directory.EnumerateFiles(tempFolder, $"CoreFxPipe_PSHost.*.{pid}.None.*")) Delete(path);
        }

        private static void Delete(string path)
        {
            try { File.Delete(path); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { }
        }
    }
}
