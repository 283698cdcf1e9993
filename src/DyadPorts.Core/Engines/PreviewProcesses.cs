using System;
using System.Diagnostics;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Engines
{
    /// <summary>Tells whether a process-engine preview recorded in the state still runs.</summary>
    public static class PreviewProcesses
    {
        /// <summary>
        /// True when the recorded pid runs and started when recorded. A reused pid does not count, and neither
        /// does a record without a start time: nothing proves that process is ours.
        /// </summary>
        public static bool IsAlive(AllocationRecord record)
        {
            if (!record.ProcessId.HasValue) return false;
            var process = TryGet(record.ProcessId.Value);
            if (process == null) return false;
            using (process)
            {
                if (!record.ProcessStartedAt.HasValue) return false;
                var started = StartedAt(process);
                return started.HasValue && Math.Abs((started.Value - record.ProcessStartedAt.Value).TotalSeconds) < 2;
            }
        }

        public static Process TryGet(int pid)
        {
            try
            {
                var process = Process.GetProcessById(pid);
                if (!process.HasExited) return process;
                process.Dispose();
            }
            catch (ArgumentException) { }
            catch (InvalidOperationException) { }
            return null;
        }

        public static DateTimeOffset? StartedAt(Process process)
        {
            try { return new DateTimeOffset(process.StartTime); }
            catch (Exception e) when (e is InvalidOperationException || e is System.ComponentModel.Win32Exception || e is NotSupportedException) { return null; }
        }
    }
}
