using System;
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
        /// Whether two endpoints name one engine: equal strings, or unix sockets whose real paths are equal
        /// (/var/run/docker.sock and /run/docker.sock through the /var/run link).
        /// </summary>
        public static bool SameEngine(string a, string b)
        {
            if (string.Equals(a, b, StringComparison.Ordinal)) return true;
            if (a == null || b == null) return false;
            var pa = UnixSocketRealPath(a);
            return pa != null && string.Equals(pa, UnixSocketRealPath(b), StringComparison.Ordinal);
        }

        private static string UnixSocketRealPath(string endpoint)
        {
            const string scheme = "unix://";
            if (!endpoint.StartsWith(scheme, StringComparison.Ordinal)) return null;
            var path = endpoint.Substring(scheme.Length);
            try
            {
                var full = System.IO.Path.GetFullPath(path);
                var target = new System.IO.FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
                var folder = System.IO.Path.GetDirectoryName(target);
                var realFolder = folder == null ? null : new System.IO.DirectoryInfo(folder).ResolveLinkTarget(returnFinalTarget: true)?.FullName;
                return realFolder == null ? target : System.IO.Path.Combine(realFolder, System.IO.Path.GetFileName(target));
            }
            catch (Exception e) when (e is System.IO.IOException || e is UnauthorizedAccessException || e is ArgumentException || e is NotSupportedException)
            {
                return path;
            }
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
