using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace DyadPorts.Core.Engines
{
    /// <summary>
    /// The text of a <see cref="ConfiguredPortsCache"/> file, parsed by hand (no JSON library to load on a cold start):
    /// <code>
    /// dyadports-engine-ports 2
    /// endpoint unix:///run/docker.sock
    /// &lt;container id&gt; &lt;host port&gt;,&lt;container port&gt;,&lt;protocol&gt;,&lt;host ip or *&gt; …
    /// end &lt;number of containers&gt;
    /// </code>
    /// One line per container (a container with no bindings is its id alone), every line ends in LF. A file of another
    /// version, of another endpoint, cut short (no end line, or a count that does not match), or with one malformed line
    /// is no file at all: <see cref="Parse"/> returns null and says why. Pure.
    /// </summary>
    public static class ConfiguredPortsFormat
    {
        /// <summary>
        /// The first line, with the format's version. 2 since 0.4.12: the files of version 1 (0.4.1-0.4.11) may hold a
        /// container dockerd listed while it was still creating it as one without bindings (an inspect's "no such
        /// container" taken for "no ports"), so they are read as no file and replaced, at one inspect per stopped container.
        /// </summary>
        public const string Header = "dyadports-engine-ports 2";
        private const string EndpointPrefix = "endpoint ";
        private const string EndPrefix = "end ";

        /// <summary>
        /// The file's text for <paramref name="entries"/> (in id order). An entry whose id or binding cannot be written
        /// as one token is left out: it costs one inspect later, never a file that cannot be read back.
        /// </summary>
        public static string Format(string endpoint, IEnumerable<KeyValuePair<string, IReadOnlyList<PublishedPort>>> entries)
        {
            ArgumentNullException.ThrowIfNull(entries);
            var text = new StringBuilder();
            text.Append(Header).Append('\n').Append(EndpointPrefix).Append(endpoint).Append('\n');
            var count = 0;
            foreach (var entry in entries.Where(e => Writable(e.Key, e.Value)).OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                text.Append(entry.Key);
                foreach (var p in entry.Value)
                {
                    text.Append(' ').Append(p.HostPort.ToString(CultureInfo.InvariantCulture))
                        .Append(',').Append(p.ContainerPort.ToString(CultureInfo.InvariantCulture))
                        .Append(',').Append(p.Protocol)
                        .Append(',').Append(p.HostIp ?? "*");
                }
                text.Append('\n');
                count++;
            }
            text.Append(EndPrefix).Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
            return text.ToString();
        }

        /// <summary>The entries of <paramref name="text"/> for <paramref name="endpoint"/>; null, with <paramref name="problem"/>, when it is not such a file.</summary>
        public static Dictionary<string, IReadOnlyList<PublishedPort>> Parse(string text, string endpoint, out string problem)
        {
            problem = null;
            if (string.IsNullOrEmpty(text)) { problem = "it is empty"; return null; }
            if (!text.EndsWith('\n')) { problem = "its last line is cut short"; return null; }
            var lines = text.Substring(0, text.Length - 1).Split('\n');
            if (lines[0] != Header) { problem = $"its first line is not '{Header}' (another version, or not such a file)"; return null; }
            if (lines.Length < 3 || lines[1] != EndpointPrefix + endpoint) { problem = $"it is not for the endpoint '{endpoint}'"; return null; }
            var last = lines[lines.Length - 1];
            if (!last.StartsWith(EndPrefix, StringComparison.Ordinal) ||
                !int.TryParse(last.AsSpan(EndPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count != lines.Length - 3)
            {
                problem = "it has no end line, or one that does not count its lines (cut short?)";
                return null;
            }
            var entries = new Dictionary<string, IReadOnlyList<PublishedPort>>(count, StringComparer.Ordinal);
            for (var i = 2; i < lines.Length - 1; i++)
            {
                var fields = lines[i].Split(' ');
                var ports = new List<PublishedPort>(fields.Length - 1);
                for (var f = 1; f < fields.Length; f++)
                {
                    if (!TryParseBinding(fields[f], out var port)) { problem = $"line {i + 1} has a malformed binding '{fields[f]}'"; return null; }
                    ports.Add(port);
                }
                if (!IsToken(fields[0]) || !entries.TryAdd(fields[0], ports)) { problem = $"line {i + 1} has a malformed or repeated container id"; return null; }
            }
            return entries;
        }

        private static bool TryParseBinding(string text, out PublishedPort port)
        {
            port = default;
            var parts = text.Split(',');
            if (parts.Length != 4) return false;
            if (!int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var hostPort) || hostPort < 1 || hostPort > 65535) return false;
            if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var containerPort) || containerPort > 65535) return false;
            if (!IsToken(parts[2]) || parts[2].Any(char.IsAsciiLetterUpper) || !IsToken(parts[3])) return false;
            port = new PublishedPort(hostPort, parts[3] == "*" ? null : parts[3], containerPort, parts[2]);
            return true;
        }

        private static bool Writable(string id, IReadOnlyList<PublishedPort> ports) =>
            IsToken(id) && ports != null && ports.All(p => p.HostPort >= 1 && p.HostPort <= 65535 && p.ContainerPort >= 0 && p.ContainerPort <= 65535 &&
                                                           IsToken(p.Protocol) && (p.HostIp == null || (IsToken(p.HostIp) && p.HostIp != "*")));

        /// <summary>Printable ASCII without space or comma: one field of a line.</summary>
        private static bool IsToken(string text) => !string.IsNullOrEmpty(text) && text.Length <= 256 && text.All(c => c > ' ' && c <= '~' && c != ',');
    }
}
