using System;
using System.Globalization;
using System.IO;

namespace DyadPorts.Core.Engines
{
    /// <summary>
    /// A process's exact start time on Linux: field 22 of /proc/&lt;pid&gt;/stat, in clock ticks since boot. Unlike a
    /// wall-clock start time, it is the same number every time it is read and does not move when the clock is set,
    /// so a pid whose start ticks differ is another process, with no tolerance. Null where there is no /proc (macOS).
    /// </summary>
    internal static class ProcessStartTicks
    {
        /// <summary>The start ticks of <paramref name="pid"/>; null when it does not run or /proc does not say.</summary>
        public static long? Of(int pid)
        {
            string line;
            try
            {
                line = File.ReadAllText("/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/stat");
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is NotSupportedException)
            {
                return null;
            }
            return Parse(line);
        }

        /// <summary>
        /// Field 22 (starttime) of a /proc/&lt;pid&gt;/stat line. Field 2, the command name in parentheses, may hold
        /// spaces and parentheses itself ("(a) (b)"), so the fields are counted from the last ')': the state (field 3)
        /// follows it, and starttime is the 20th field after it. Null when the line is not one.
        /// </summary>
        public static long? Parse(string statLine)
        {
            if (string.IsNullOrEmpty(statLine)) return null;
            var close = statLine.LastIndexOf(')');
            if (close < 0) return null;
            var fields = statLine.Substring(close + 1).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            const int StartTimeAfterName = 22 - 3; // fields[0] is field 3
            if (fields.Length <= StartTimeAfterName) return null;
            return long.TryParse(fields[StartTimeAfterName], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) ? ticks : (long?)null;
        }
    }
}
