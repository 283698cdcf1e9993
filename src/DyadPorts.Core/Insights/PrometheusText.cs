using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Insights
{
    /// <summary>
    /// The Prometheus text exposition format (version 0.0.4), by hand: HELP and TYPE lines, dyadports_ names,
    /// label values escaped (backslash, double quote, newline). Written for node_exporter's textfile collector.
    /// </summary>
    public static class PrometheusText
    {
        public static string Build(PortUsage usage)
        {
            var text = new StringBuilder();
            var range = new[] { ("range", usage.Range) };
            Family(text, "dyadports_ports", "gauge", "Ports in the range DyadPorts allocates from.", new[] { (range, (double)usage.Total) });
            Family(text, "dyadports_ports_free", "gauge", "Ports of the range that nothing holds.", new[] { (range, (double)usage.Free) });
            Family(text, "dyadports_ports_held", "gauge", "Ports of the range held, by holder source.", new[]
            {
                (With(range, ("source", "allocation")), (double)usage.HeldByAllocation),
                (With(range, ("source", "container")), (double)usage.HeldByContainer),
                (With(range, ("source", "host")), (double)usage.HeldByHost),
            });
            var statuses = Enum.GetNames<AllocationStatus>().Where(s => s != nameof(AllocationStatus.Released));
            Family(text, "dyadports_allocations", "gauge", "Allocations of the state, by status.",
                statuses.Select(s => (new[] { ("status", s.ToLowerInvariant()) }, (double)(usage.AllocationsByStatus.TryGetValue(s, out var n) ? n : 0))));
            Family(text, "dyadports_events_total", "counter", "Decisions journaled since the state began, by kind. Kept in the state file, so journal rotation never lowers them.",
                Enum.GetNames<PortEventKind>().Select(k => (new[] { ("kind", Snake(k)) }, (double)(usage.EventCounts.TryGetValue(k, out var n) ? n : 0))));
            Family(text, "dyadports_last_export_timestamp_seconds", "gauge", "When this file was written, as a Unix time.",
                new[] { (Array.Empty<(string, string)>(), (double)usage.At.ToUnixTimeMilliseconds() / 1000) });
            return text.ToString();
        }

        /// <summary>Mode of the metrics file: node_exporter, another user, must read it (0644).</summary>
        public const int FileMode = 0x1A4;

        /// <summary>
        /// Writes <paramref name="content"/> to <paramref name="path"/> atomically, through the state's safe-file layer:
        /// a new temp file beside it (O_EXCL, never through a link), mode 0644 set on its descriptor, synced, then
        /// renamed over the path. Unlike the state folder, the metrics folder may belong to another user (node_exporter's
        /// textfile directory often does) or be open to others: DyadPorts never reads the metrics file back and never
        /// writes into an existing file there, so whoever can swap files in that folder can change only what they could
        /// change anyway. A folder that does not exist is not created.
        /// </summary>
        public static void WriteAtomically(string path, string content)
        {
            var full = Path.GetFullPath(path);
            if (Directory.Exists(full))
            {
                throw new DyadPortsException(ErrorIds.MetricsWriteFailed, FailureCategory.InvalidArgument, path, $"'{path}' is a directory; give the path of a .prom file.");
            }
            SafeFiles.ReplaceAtomically(full, new UTF8Encoding(false).GetBytes(content), FileMode, "metrics file", ErrorIds.MetricsWriteFailed);
        }

        public static string Escape(string value) => (value ?? string.Empty).Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

        private static (string, string)[] With((string, string)[] labels, (string, string) extra) => labels.Concat(new[] { extra }).ToArray();

        private static void Family(StringBuilder text, string name, string type, string help, IEnumerable<((string Name, string Value)[] Labels, double Value)> samples)
        {
            text.Append("# HELP ").Append(name).Append(' ').Append(help.Replace("\\", "\\\\").Replace("\n", "\\n")).Append('\n');
            text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
            foreach (var (labels, value) in samples)
            {
                text.Append(name);
                if (labels.Length > 0)
                {
                    text.Append('{').Append(string.Join(",", labels.Select(l => $"{l.Name}=\"{Escape(l.Value)}\""))).Append('}');
                }
                text.Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        private static string Snake(string pascal)
        {
            var text = new StringBuilder();
            foreach (var c in pascal)
            {
                if (char.IsUpper(c) && text.Length > 0) text.Append('_');
                text.Append(char.ToLowerInvariant(c));
            }
            return text.ToString();
        }
    }
}
