using System;
using System.Globalization;

namespace DyadPorts.Core.Previews
{
    /// <summary>
    /// Reads the few numbers the idle reaper needs out of the text of Linux's /proc files. Pure: text in, numbers out.
    /// </summary>
    public static class ProcNetText
    {
        /// <summary>The kernel's TCP state number for ESTABLISHED in /proc/net/tcp and tcp6 ("st" column).</summary>
        private const int Established = 0x01;

        /// <summary>
        /// The PassiveOpens counter of the "Tcp:" lines of /proc/&lt;pid&gt;/net/snmp: connections accepted in that
        /// network namespace. A header line names the columns and the next "Tcp:" line holds the values. Null when
        /// the text has no such counter.
        /// </summary>
        public static long? PassiveOpens(string snmp)
        {
            if (snmp == null) return null;
            string[] header = null;
            foreach (var raw in snmp.Split('\n'))
            {
                var line = raw.Trim();
                if (!line.StartsWith("Tcp:", StringComparison.Ordinal)) continue;
                var fields = line.Split((char[])null, StringSplitOptions.RemoveEmptyEntries);
                if (header == null)
                {
                    header = fields;
                    continue;
                }
                var column = Array.IndexOf(header, "PassiveOpens");
                if (column < 1 || column >= fields.Length) return null;
                return long.TryParse(fields[column], NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : (long?)null;
            }
            return null;
        }

        /// <summary>
        /// How many ESTABLISHED connections in the text of /proc/&lt;pid&gt;/net/tcp or tcp6 have <paramref name="port"/>
        /// as their local port: clients attached to the preview. Connections the preview opened itself (to a database)
        /// have another local port and are not counted. Malformed lines are skipped.
        /// </summary>
        public static int EstablishedTo(string table, int port)
        {
            if (table == null) return 0;
            var count = 0;
            foreach (var raw in table.Split('\n'))
            {
                // "  0: 0100007F:1F90 0100007F:C350 01 ..." (tcp6: 32 hex digits before the colon)
                var fields = raw.Split((char[])null, StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 4 || !fields[0].EndsWith(':')) continue;
                if (LocalPort(fields[1]) == port && int.TryParse(fields[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var state) && state == Established) count++;
            }
            return count;
        }

        private static int LocalPort(string address)
        {
            var colon = address.LastIndexOf(':');
            return colon > 0 && int.TryParse(address.AsSpan(colon + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var port) ? port : -1;
        }

        /// <summary>
        /// Whether the text of /proc/&lt;pid&gt;/cgroup puts the process in the container's cgroup: some line's path holds
        /// the container's full id as a whole word (docker: /docker/&lt;id&gt; or docker-&lt;id&gt;.scope; podman:
        /// libpod-&lt;id&gt;.scope). False for a reused pid, a pid of a VM's (Docker Desktop, podman machine) or of
        /// another pid namespace, and for an id too short to be sure of.
        /// </summary>
        public static bool CgroupNames(string cgroup, string containerId)
        {
            if (cgroup == null || containerId == null || containerId.Length < 32 || !IsHex(containerId)) return false;
            foreach (var line in cgroup.Split('\n'))
            {
                // "hierarchy-id:controllers:path"; the path may itself hold colons, so split off the first two fields only.
                var parts = line.Split(':', 3);
                if (parts.Length < 3) continue;
                var path = parts[2];
                for (var at = path.IndexOf(containerId, StringComparison.OrdinalIgnoreCase); at >= 0; at = path.IndexOf(containerId, at + 1, StringComparison.OrdinalIgnoreCase))
                {
                    var end = at + containerId.Length;
                    if ((at == 0 || !IsHex(path[at - 1])) && (end == path.Length || !IsHex(path[end]))) return true;
                }
            }
            return false;
        }

        private static bool IsHex(string text)
        {
            foreach (var c in text) if (!IsHex(c)) return false;
            return true;
        }

        private static bool IsHex(char c) => (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }
}
