using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace DyadPorts
{
    /// <summary>An app and how often it was moved off its port.</summary>
    public sealed class AppMoves
    {
        public string AppId { get; set; }
        public int Moves { get; set; }
        public override string ToString() => $"{AppId} ({Moves})";
    }

    /// <summary>A port range at a glance, from one engine snapshot: who holds what, and what happened lately.</summary>
    public sealed class PortUsage
    {
        /// <summary>The map's letters, one per holder kind; shown always, coloured on top where the host allows.</summary>
        public const char FreeCell = '.', AllocationCell = 'A', ContainerCell = 'C', HostCell = 'H';

        public DateTimeOffset At { get; set; }
        public string Range { get; set; }
        public int First { get; set; }
        public int Last { get; set; }
        public int Total { get; set; }
        public int Free { get; set; }
        public int HeldByAllocation { get; set; }
        public int HeldByContainer { get; set; }
        public int HeldByHost { get; set; }
        /// <summary>Every allocation of the state (not only those in the range), by status.</summary>
        public SortedDictionary<string, int> AllocationsByStatus { get; set; } = new SortedDictionary<string, int>(StringComparer.Ordinal);
        public int MovesLast24Hours { get; set; }
        public int RacesLostLast24Hours { get; set; }
        /// <summary>The apps moved most often in the last 24 hours, most first.</summary>
        public AppMoves[] TopMovers { get; set; } = Array.Empty<AppMoves>();
        /// <summary>The journal's counters since the state began, by event kind (monotonic).</summary>
        public SortedDictionary<string, long> EventCounts { get; set; } = new SortedDictionary<string, long>(StringComparer.Ordinal);
        /// <summary>One letter per port of the range, in order: '.' free, 'A' allocation, 'C' container, 'H' host process.</summary>
        public string Map { get; set; } = string.Empty;

        public static string Legend => $"{ContainerCell} container   {AllocationCell} allocation   {HostCell} host process   {FreeCell} free";

        /// <summary>
        /// The map as text lines of at most <paramref name="width"/> columns: each line starts with its first port,
        /// cells come in groups of ten. <paramref name="colors"/> maps a cell letter to an escape sequence put before
        /// it (for example $PSStyle.Foreground.Green), and <paramref name="reset"/> follows it; both may be empty.
        /// </summary>
        public string Render(int width, IDictionary colors = null, string reset = null) => string.Join("\n", RenderLines(width, colors, reset));

        /// <summary>
        /// The map's lines, each a string of its own (the format view writes them one by one, so no colour state
        /// carries from one line to the next). A colour is set once per run of equal cells and reset at the line's end.
        /// </summary>
        public string[] RenderLines(int width, IDictionary colors = null, string reset = null)
        {
            var label = Last.ToString(CultureInfo.InvariantCulture).Length + 1;
            var groups = Math.Max(1, (Math.Max(width, label + 10) - label + 1) / 11);
            var perLine = groups * 10;
            var lines = new List<string>();
            for (var start = 0; start < Map.Length; start += perLine)
            {
                var text = new StringBuilder((First + start).ToString(CultureInfo.InvariantCulture).PadRight(label));
                string current = null;
                for (var i = start; i < Math.Min(Map.Length, start + perLine); i++)
                {
                    if (i > start && (i - start) % 10 == 0) text.Append(' ');
                    var cell = Map[i];
                    var color = colors != null && colors.Contains(cell.ToString()) ? colors[cell.ToString()] as string : null;
                    if (!string.IsNullOrEmpty(color) && color != current)
                    {
                        text.Append(color);
                        current = color;
                    }
                    else if (string.IsNullOrEmpty(color) && current != null)
                    {
                        text.Append(reset ?? string.Empty);
                        current = null;
                    }
                    text.Append(cell);
                }
                if (current != null) text.Append(reset ?? string.Empty);
                lines.Add(text.ToString());
            }
            return lines.ToArray();
        }

        public override string ToString() => $"{Range}: {Free} of {Total} free";
    }
}
