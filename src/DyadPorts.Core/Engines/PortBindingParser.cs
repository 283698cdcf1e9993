using System;
using System.Collections.Generic;
using System.Globalization;
using Docker.DotNet.Models;

namespace DyadPorts.Core.Engines
{
    /// <summary>
    /// Reads host ports from the two shapes the engines use: the list's Ports (running containers;
    /// podman also for stopped ones) and inspect's HostConfig.PortBindings (docker's only record for
    /// created or stopped containers). Ports are compared as integers, never as text.
    /// </summary>
    public static class PortBindingParser
    {
        public static IReadOnlyList<PublishedPort> FromList(IEnumerable<Port> ports)
        {
            var result = new List<PublishedPort>();
            if (ports == null) return result;
            foreach (var p in ports)
            {
                if (p == null || p.PublicPort == 0) continue; // exposed only, not published
                var published = new PublishedPort(p.PublicPort, NormalizeIp(p.IP), p.PrivatePort, p.Type);
                if (!result.Contains(published)) result.Add(published);
            }
            return result;
        }

        public static IReadOnlyList<PublishedPort> FromPortBindings(IDictionary<string, IList<PortBinding>> bindings)
        {
            var result = new List<PublishedPort>();
            if (bindings == null) return result;
            foreach (var entry in bindings)
            {
                ParseContainerPort(entry.Key, out var containerPort, out var protocol);
                if (entry.Value == null) continue;
                foreach (var binding in entry.Value)
                {
                    if (binding == null) continue;
                    foreach (var hostPort in ParseHostPorts(binding.HostPort))
                    {
                        var published = new PublishedPort(hostPort, NormalizeIp(binding.HostIP), containerPort, protocol);
                        if (!result.Contains(published)) result.Add(published);
                    }
                }
            }
            return result;
        }

        /// <summary>"32100/tcp", "53/udp" or "8080" (tcp).</summary>
        public static void ParseContainerPort(string key, out int port, out string protocol)
        {
            protocol = "tcp";
            port = 0;
            if (string.IsNullOrEmpty(key)) return;
            var slash = key.IndexOf('/');
            var number = slash < 0 ? key : key.Substring(0, slash);
            if (slash >= 0) protocol = key.Substring(slash + 1).ToLowerInvariant();
            int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out port);
        }

        /// <summary>"32100", "32100-32102", or "" (engine picks a random port: nothing fixed is held).</summary>
        public static IEnumerable<int> ParseHostPorts(string text)
        {
            if (string.IsNullOrWhiteSpace(text)) yield break;
            var parts = text.Split('-');
            if (!int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var first) || first < 1 || first > 65535) yield break;
            var last = first;
            if (parts.Length == 2 && (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out last) || last < first || last > 65535)) yield break;
            if (parts.Length > 2) yield break;
            for (var port = first; port <= last; port++) yield return port;
        }

        private static string NormalizeIp(string ip) =>
            string.IsNullOrEmpty(ip) || ip == "0.0.0.0" || ip == "::" ? null : ip;
    }
}
