using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace DyadPorts.Commands
{
    /// <summary>
    /// Draws a <see cref="PortUsage"/> map as text for Get-DyadPortUsage's view: the letters always, coloured on top
    /// where the host allows (the view passes $PSStyle's codes; none when output is redirected).
    /// </summary>
    public static class PortUsageMap
    {
        public static string Legend => $"{PortUsage.ContainerCell} container   {PortUsage.AllocationCell} allocation   {PortUsage.HostCell} host process   {PortUsage.FreeCell} free";

        /// <summary>
        /// The map's lines, each a string of its own, of at most <paramref name="width"/> columns: each line starts with
        /// its first port, cells come in groups of ten. <paramref name="colors"/> maps a cell letter to an escape sequence
        /// put before it (for example $PSStyle.Foreground.Green), and <paramref name="reset"/> follows it; both may be
        /// empty. The format view writes the lines one by one (pwsh replays earlier colour codes on every later line of
        /// one multi-line string), so a colour is set once per run of equal cells and reset at each line's end.
        /// </summary>
        public static string[] Lines(PortUsage usage, int width, IDictionary colors = null, string reset = null)
        {
            ArgumentNullException.ThrowIfNull(usage);
            var map = usage.Map ?? string.Empty;
            var label = usage.Last.ToString(CultureInfo.InvariantCulture).Length + 1;
            var groups = Math.Max(1, (Math.Max(width, label + 10) - label + 1) / 11);
            var perLine = groups * 10;
            var lines = new List<string>();
            for (var start = 0; start < map.Length; start += perLine)
            {
                var text = new StringBuilder((usage.First + start).ToString(CultureInfo.InvariantCulture).PadRight(label));
                string current = null;
                for (var i = start; i < Math.Min(map.Length, start + perLine); i++)
                {
                    if (i > start && (i - start) % 10 == 0) text.Append(' ');
                    var cell = map[i];
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
    }
}
