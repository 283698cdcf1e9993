using System;
using System.Diagnostics;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Engines
{
    /// <summary>Tells whether a process-engine preview recorded in the state still runs.</summary>
    public static class PreviewProcesses
    {
        /// <summary>How far apart two wall-clock start times of one process may be: only for records without start ticks (0.2.0, macOS).</summary>
        internal static readonly TimeSpan WallClockTolerance = TimeSpan.FromSeconds(2);

        /// <summary>
        /// With exact start ticks, how far the recorded wall-clock start may be from today's reading of it: it only tells
        /// one boot from another (ticks count from boot), so it is generous where the clock was set meanwhile.
        /// </summary>
        internal static readonly TimeSpan SameBootTolerance = TimeSpan.FromSeconds(60);

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
                return IsRecorded(record, process);
            }
        }

        /// <summary>Whether <paramref name="process"/> (of the record's pid) is the very process the record names.</summary>
        internal static bool IsRecorded(AllocationRecord record, Process process) =>
            SameStart(record, record.ProcessStartTicks.HasValue ? ProcessStartTicks.Of(process.Id) : null, StartedAt(process));

        /// <summary>
        /// The rule: with recorded start ticks (this version, on Linux), the ticks must be equal, exactly, and the wall-clock
        /// start must be of the same boot; with a wall-clock start only (0.2.0's records, macOS), within
        /// <see cref="WallClockTolerance"/>. Without a recorded start, never.
        /// </summary>
        internal static bool SameStart(AllocationRecord record, long? ticksNow, DateTimeOffset? startedNow)
        {
            if (!record.ProcessStartedAt.HasValue || !startedNow.HasValue) return false;
            var apart = (startedNow.Value - record.ProcessStartedAt.Value).Duration();
            if (record.ProcessStartTicks.HasValue) return ticksNow == record.ProcessStartTicks && apart <= SameBootTolerance;
            return apart < WallClockTolerance;
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
