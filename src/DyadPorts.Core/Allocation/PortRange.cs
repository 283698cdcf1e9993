using System;
using System.Globalization;
using DyadPorts.Core.Diagnostics;

namespace DyadPorts.Core.Allocation
{
    /// <summary>An inclusive range of TCP ports, e.g. "32100-32200".</summary>
    public readonly struct PortRange : IEquatable<PortRange>
    {
        public const int DefaultFirst = 32100;
        public const int DefaultLast = 32200;
        public const string EnvironmentVariable = "DYAD_PORT_RANGE";
        public static readonly PortRange Default = new PortRange(DefaultFirst, DefaultLast);

        public PortRange(int first, int last)
        {
            EnsurePort(first, $"{first}-{last}");
            EnsurePort(last, $"{first}-{last}");
            if (last < first)
            {
                throw Invalid($"{first}-{last}", $"the range {first}-{last} is inverted: the first port must not exceed the last.");
            }
            First = first;
            Last = last;
        }

        public int First { get; }
        public int Last { get; }
        public int Count => Last - First + 1;

        public bool Contains(int port) => port >= First && port <= Last;

        public static bool operator ==(PortRange left, PortRange right) => left.Equals(right);
        public static bool operator !=(PortRange left, PortRange right) => !left.Equals(right);

        /// <summary>Parses "32100-32200" or a single port "32100".</summary>
        public static PortRange Parse(string text)
        {
            if (string.IsNullOrWhiteSpace(text))
            {
                throw Invalid(text, "a port range is empty; write it as FIRST-LAST, for example 32100-32200.");
            }
            var parts = text.Trim().Split('-');
            if (parts.Length > 2 || !TryParsePort(parts[0], text, out var first) || !TryParsePort(parts[parts.Length - 1], text, out var last))
            {
                throw Invalid(text, $"'{text}' is not a port range; write it as FIRST-LAST with ports 1-65535, for example 32100-32200.");
            }
            return new PortRange(first, last);
        }

        /// <summary>The explicit text, else DYAD_PORT_RANGE, else 32100-32200.</summary>
        public static PortRange Resolve(string explicitText, Func<string, string> environment)
        {
            if (!string.IsNullOrWhiteSpace(explicitText))
            {
                return Parse(explicitText);
            }
            var fromEnvironment = environment(EnvironmentVariable);
            return string.IsNullOrWhiteSpace(fromEnvironment) ? Default : Parse(fromEnvironment);
        }

        public static void EnsurePort(int port, object target)
        {
            if (port < 1 || port > 65535)
            {
                throw new DyadPortsException(ErrorIds.InvalidPort, FailureCategory.InvalidArgument, target,
                    $"Port {port} is outside 1-65535.");
            }
        }

        private static bool TryParsePort(string part, string range, out int port)
        {
            // Parse as long first so "70000" is reported as out of range, not as garbage.
            if (long.TryParse(part.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                if (value < 1 || value > 65535)
                {
                    throw Invalid(range, $"port {value} in '{range}' is outside 1-65535.");
                }
                port = (int)value;
                return true;
            }
            port = 0;
            return false;
        }

        private static DyadPortsException Invalid(string text, string why) =>
            new DyadPortsException(ErrorIds.InvalidPortRange, FailureCategory.InvalidArgument, text, "Invalid port range: " + why);

        public bool Equals(PortRange other) => First == other.First && Last == other.Last;
        public override bool Equals(object obj) => obj is PortRange other && Equals(other);
        public override int GetHashCode() => (First * 65536) ^ Last;
        public override string ToString() => First == Last ? First.ToString(CultureInfo.InvariantCulture) : $"{First}-{Last}";
    }
}
