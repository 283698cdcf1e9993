using System;
using System.Globalization;
using DyadPorts.Core.Diagnostics;

namespace DyadPorts.Core.Previews
{
    /// <summary>CONTAINER_CPU_LIMIT ("1.5" CPUs) and CONTAINER_MEMORY_LIMIT ("512m", "1g", bytes), as dyad's fork reads them.</summary>
    public sealed class ResourceLimits
    {
        public const string CpuVariable = "CONTAINER_CPU_LIMIT";
        public const string MemoryVariable = "CONTAINER_MEMORY_LIMIT";

        /// <summary>Billionths of a CPU, as the engine API wants; 0 means no limit.</summary>
        public long NanoCpus { get; private set; }
        public long MemoryBytes { get; private set; }

        public static ResourceLimits Parse(string cpus, string memory) => new ResourceLimits
        {
            NanoCpus = ParseCpus(cpus),
            MemoryBytes = ParseMemory(memory),
        };

        public static long ParseCpus(string text)
        {
            if (string.IsNullOrWhiteSpace(text)) return 0;
            if (!double.TryParse(text.Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var cpus) || cpus <= 0 || cpus > 1024)
            {
                throw Invalid(CpuVariable, text, "a CPU count such as 1 or 1.5");
            }
            return (long)Math.Round(cpus * 1e9);
        }

        public static long ParseMemory(string text)
        {
            if (string.IsNullOrWhiteSpace(text)) return 0;
            var t = text.Trim().ToLowerInvariant();
            if (t.EndsWith('b') && t.Length > 1 && !char.IsDigit(t[t.Length - 2])) t = t.Substring(0, t.Length - 1);
            long unit = 1;
            switch (t[t.Length - 1])
            {
                case 'k': unit = 1L << 10; break;
                case 'm': unit = 1L << 20; break;
                case 'g': unit = 1L << 30; break;
            }
            var number = unit == 1 ? t : t.Substring(0, t.Length - 1);
            if (!long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value <= 0 || value > long.MaxValue / unit)
            {
                throw Invalid(MemoryVariable, text, "a size such as 512m, 1g or a number of bytes");
            }
            var bytes = value * unit;
            if (bytes < 6L << 20) throw Invalid(MemoryVariable, text, "at least 6m, the engines' minimum");
            return bytes;
        }

        private static DyadPortsException Invalid(string variable, string text, string expected) =>
            new DyadPortsException(ErrorIds.InvalidResourceLimit, FailureCategory.InvalidArgument, text, $"{variable}='{text}' is not valid: expected {expected}.");
    }
}
