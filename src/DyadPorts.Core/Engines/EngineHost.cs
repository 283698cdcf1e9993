using System;
using System.IO;
using System.Net;

namespace DyadPorts.Core.Engines
{
    /// <summary>
    /// Which host's port space an engine endpoint publishes into. Unix sockets, named pipes and loopback TCP
    /// endpoints (and the process engine) all mean this host: local podman and local docker share one port space.
    /// A remote TCP endpoint's host is its host name. Allocations are unique per host, not per endpoint.
    /// </summary>
    public static class EngineHost
    {
        /// <summary>The identity of this machine's port space.</summary>
        public const string Local = "localhost";

        /// <summary>"localhost" for this machine, else the endpoint's host name in lower case (no port).</summary>
        public static string Of(string endpoint)
        {
            if (string.IsNullOrWhiteSpace(endpoint)) return Local;
            if (!Uri.TryCreate(endpoint.Trim(), UriKind.Absolute, out var uri)) return Local;
            switch (uri.Scheme)
            {
                case "tcp":
                case "http":
                case "https":
                    var host = uri.Host.Trim('[', ']').ToLowerInvariant();
                    return IsLoopback(host) ? Local : host;
                default:
                    return Local; // unix, npipe: a socket on this machine
            }
        }

        public static bool IsLocal(string endpoint) => Of(endpoint) == Local;

        /// <summary>Whether two endpoints publish into the same port space.</summary>
        public static bool SameHost(string a, string b) => string.Equals(Of(a), Of(b), StringComparison.Ordinal);

        /// <summary>
        /// Whether two endpoints are the same engine: equal after <see cref="Canonical"/>, so unix:///var/run/docker.sock
        /// and unix:///run/docker.sock (with /var/run a link to /run) are one. The engine's /info ID is not asked:
        /// podman 4.3 reports a fresh one on every call.
        /// </summary>
        public static bool SameEngine(string a, string b)
        {
            if (a == null || b == null) return a == b;
            return string.Equals(a, b, StringComparison.Ordinal) || string.Equals(Canonical(a), Canonical(b), StringComparison.Ordinal);
        }

        /// <summary>
        /// One spelling per engine endpoint: a unix socket by the real path of its folder (links resolved) and, when the
        /// socket itself is a link, of its target; tcp/http by scheme, lower-case host and port (the default port made
        /// explicit); npipe in lower case (Windows pipe names ignore case). Anything unparsable comes back trimmed.
        /// </summary>
        public static string Canonical(string endpoint)
        {
            if (string.IsNullOrWhiteSpace(endpoint)) return endpoint;
            var text = endpoint.Trim();
            if (text.StartsWith('/')) text = "unix://" + text;
            if (text.StartsWith("unix://", StringComparison.OrdinalIgnoreCase)) return "unix://" + RealPath(text.Substring("unix://".Length));
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri)) return text;
            switch (uri.Scheme)
            {
                case "tcp":
                case "http":
                case "https":
                    var port = uri.IsDefaultPort || uri.Port < 0 ? (uri.Scheme == "https" ? 443 : uri.Scheme == "http" ? 80 : 2375) : uri.Port;
                    return $"{(uri.Scheme == "https" ? "https" : "tcp")}://{uri.Host.ToLowerInvariant()}:{port}";
                case "npipe":
                    return text.ToLowerInvariant().Replace('\\', '/');
                default:
                    return text;
            }
        }

        /// <summary>The path with every link in it resolved (as realpath(3) does), as far as the path exists.</summary>
        internal static string RealPath(string path)
        {
            string full;
            try { full = Path.GetFullPath(path); }
            catch (Exception e) when (e is ArgumentException || e is NotSupportedException || e is PathTooLongException) { return path; }
            for (var hops = 0; hops < 40; hops++)
            {
                var resolved = ResolveOneLink(full);
                if (resolved == null) return full;
                full = resolved;
            }
            return full; // a loop of links: leave it as far as it got
        }

        /// <summary>The path with its first link (from the root) replaced by the link's target; null when it holds none.</summary>
        private static string ResolveOneLink(string full)
        {
            var root = Path.GetPathRoot(full) ?? "";
            var parts = full.Substring(root.Length).Split(new[] { Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar }, StringSplitOptions.RemoveEmptyEntries);
            var current = root;
            for (var i = 0; i < parts.Length; i++)
            {
                var next = Path.Combine(current, parts[i]);
                string target;
                try { target = new FileInfo(next).LinkTarget; }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { return null; }
                if (target != null)
                {
                    var rest = string.Join(Path.DirectorySeparatorChar, parts, i + 1, parts.Length - i - 1);
                    var resolved = Path.GetFullPath(Path.IsPathRooted(target) ? target : Path.Combine(current, target));
                    return rest.Length == 0 ? resolved : Path.Combine(resolved, rest);
                }
                current = next;
            }
            return null;
        }

        /// <summary>The host name a preview on this endpoint is reached at: localhost, or the remote engine's host.</summary>
        public static string UrlHost(string endpoint)
        {
            var host = Of(endpoint);
            return host != Local && IPAddress.TryParse(host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "[" + host + "]" : host;
        }

        private static bool IsLoopback(string host) =>
            string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) ||
            (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
    }
}
