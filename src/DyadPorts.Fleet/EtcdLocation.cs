using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.State;

namespace DyadPorts.Fleet
{
    /// <summary>
    /// A fleet state's place: <c>etcd://host:port[,host:port…][/prefix]</c>, or <c>etcds://…</c> for TLS. The prefix
    /// (default <see cref="DefaultPrefix"/>) lets several teams share one cluster; it never ends with a slash.
    /// </summary>
    public sealed class EtcdLocation
    {
        public const string DefaultPrefix = "/dyadports";

        private EtcdLocation(string text, bool tls, IReadOnlyList<EtcdEndpoint> endpoints, string prefix)
        {
            Text = text;
            Tls = tls;
            Endpoints = endpoints;
            Prefix = prefix;
        }

        /// <summary>The location as given, for messages.</summary>
        public string Text { get; }
        public bool Tls { get; }
        public IReadOnlyList<EtcdEndpoint> Endpoints { get; }
        public string Prefix { get; }

        /// <summary>The endpoints as the client dials them, e.g. "http://10.0.0.1:2379,http://10.0.0.2:2379".</summary>
        public string ConnectionString => string.Join(",", Endpoints.Select(e => (Tls ? "https://" : "http://") + e));

        /// <summary>The endpoints for messages: "10.0.0.1:2379, 10.0.0.2:2379".</summary>
        public string EndpointList => string.Join(", ", Endpoints);

        public override string ToString() => Text;

        /// <summary>Parses an etcd:// or etcds:// location; anything else is <see cref="ErrorIds.StateLocationInvalid"/>.</summary>
        public static EtcdLocation Parse(string text)
        {
            if (StateLocation.Classify(text) == StateLocationKind.Unknown) throw StateLocation.UnknownScheme(text);
            if (StateLocation.Classify(text) != StateLocationKind.Etcd) throw Invalid(text, "it is not an etcd:// or etcds:// URL");
            var trimmed = text.Trim();
            var scheme = StateLocation.SchemeOf(trimmed);
            var tls = scheme.Equals("etcds", StringComparison.OrdinalIgnoreCase);
            var rest = trimmed.Substring(trimmed.IndexOf("://", StringComparison.Ordinal) + 3);
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            var hosts = slash < 0 ? rest : rest.Substring(0, slash);
            var prefix = slash < 0 ? DefaultPrefix : NormalizePrefix(text, rest.Substring(slash));
            if (hosts.Contains('@', StringComparison.Ordinal)) throw Invalid(text, "credentials never go in the URL: use DYAD_PORTS_ETCD_USER and DYAD_PORTS_ETCD_PASSWORD_FILE");
            if (hosts.Contains('?', StringComparison.Ordinal) || hosts.Contains('#', StringComparison.Ordinal)) throw Invalid(text, "it has a query or fragment");
            var endpoints = hosts.Split(',').Select(h => ParseEndpoint(text, h.Trim())).ToList();
            return new EtcdLocation(trimmed, tls, endpoints, prefix);
        }

        private static string NormalizePrefix(string text, string path)
        {
            if (path.Contains('?', StringComparison.Ordinal) || path.Contains('#', StringComparison.Ordinal)) throw Invalid(text, "it has a query or fragment");
            var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0) return DefaultPrefix;
            if (parts.Any(p => p == "." || p == "..")) throw Invalid(text, "its prefix has a '.' or '..' segment");
            return "/" + string.Join("/", parts);
        }

        private static EtcdEndpoint ParseEndpoint(string text, string hostPort)
        {
            if (hostPort.Length == 0) throw Invalid(text, "an endpoint is empty");
            string host;
            string portText;
            if (hostPort.StartsWith('['))
            {
                var close = hostPort.IndexOf(']', StringComparison.Ordinal);
                if (close < 0) throw Invalid(text, $"the endpoint '{hostPort}' has an unclosed '['");
                host = hostPort.Substring(0, close + 1);
                var after = hostPort.Substring(close + 1);
                if (after.Length > 0 && !after.StartsWith(':')) throw Invalid(text, $"the endpoint '{hostPort}' is not [address]:port");
                portText = after.Length > 0 ? after.Substring(1) : null;
            }
            else
            {
                var colon = hostPort.LastIndexOf(':');
                if (colon >= 0 && hostPort.IndexOf(':', StringComparison.Ordinal) != colon) throw Invalid(text, $"the IPv6 endpoint '{hostPort}' needs brackets: [address]:port");
                host = colon < 0 ? hostPort : hostPort.Substring(0, colon);
                portText = colon < 0 ? null : hostPort.Substring(colon + 1);
            }
            // A name or address the URI rules accept, as the etcd client's own parsing needs ("etcd^1" is neither).
            var kind = host.StartsWith('[') ? Uri.CheckHostName(host.Trim('[', ']')) : Uri.CheckHostName(host);
            if (host.StartsWith('[') ? kind != UriHostNameType.IPv6 : kind != UriHostNameType.Dns && kind != UriHostNameType.IPv4)
                throw Invalid(text, $"the endpoint '{hostPort}' has no valid host");
            if (portText == null) throw Invalid(text, $"the endpoint '{hostPort}' has no port (etcd's client port is usually 2379)");
            if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port < 1 || port > 65535)
            {
                throw Invalid(text, $"the endpoint '{hostPort}' has no valid port (1-65535)");
            }
            return new EtcdEndpoint(host.ToLowerInvariant(), port);
        }

        private static DyadPortsException Invalid(string text, string why) =>
            new DyadPortsException(ErrorIds.StateLocationInvalid, FailureCategory.InvalidArgument, text,
                $"The state location '{text}' (DYAD_PORTS_STATE, or a -Source or -Destination of Copy-DyadPortState) is no valid etcd location: {why}. The form is etcd://host:port[,host:port...][/prefix], or etcds://... for TLS.");
    }

    /// <summary>One member's client address.</summary>
    public sealed class EtcdEndpoint
    {
        public EtcdEndpoint(string host, int port)
        {
            Host = host;
            Port = port;
        }

        public string Host { get; }
        public int Port { get; }

        public override string ToString() => Host + ":" + Port.ToString(CultureInfo.InvariantCulture);
    }
}
