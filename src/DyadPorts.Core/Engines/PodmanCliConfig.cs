using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Runtime.InteropServices;

namespace DyadPorts.Core.Engines
{
    /// <summary>
    /// Reads podman's connections: podman 5's podman-connections.json, and podman 4's containers.conf
    /// ([engine] active_service, [engine.service_destinations.NAME]). CONTAINERS_CONF, when set, is the only
    /// containers.conf read (as podman does); PODMAN_CONNECTIONS_CONF likewise for the JSON file.
    /// </summary>
    public static class PodmanCliConfig
    {
        /// <summary>The connection podman would use and the rule that chose it; null when there is none.</summary>
        public static PodmanConnection Current(Func<string, string> environment, out string rule)
        {
            var all = All(environment, out var defaultName, out var defaultSource);
            var wanted = environment("CONTAINER_CONNECTION");
            if (!string.IsNullOrWhiteSpace(wanted))
            {
                rule = $"CONTAINER_CONNECTION={wanted.Trim()}";
                return all.FirstOrDefault(c => c.Name == wanted.Trim()) ?? new PodmanConnection { Name = wanted.Trim() };
            }
            rule = null;
            if (defaultName == null) return null;
            rule = $"podman's default connection '{defaultName}' in {defaultSource}";
            return all.FirstOrDefault(c => c.Name == defaultName) ?? new PodmanConnection { Name = defaultName, Source = defaultSource };
        }

        /// <summary>Every connection, JSON first (podman 5), then containers.conf (podman 4); the default connection's name.</summary>
        public static IReadOnlyList<PodmanConnection> All(Func<string, string> environment, out string defaultName, out string defaultSource)
        {
            var found = new List<PodmanConnection>();
            defaultName = null;
            defaultSource = null;
            foreach (var path in JsonFiles(environment))
            {
                var json = CliJson.Read(path);
                if (json == null) continue;
                // As before: a "Connection" or "Connections" that is no object is no connection at all.
                var section = json.Value.TryGetProperty("Connection", out var c) && c.ValueKind == JsonValueKind.Object ? c : (JsonElement?)null;
                var name = DockerCliConfig.Shaped(path, "podman CLI", () => CliJson.String(section, "Default"));
                if (defaultName == null && !string.IsNullOrEmpty(name)) { defaultName = name; defaultSource = path; }
                if (section?.TryGetProperty("Connections", out var connections) != true || connections.ValueKind != JsonValueKind.Object) continue;
                foreach (var property in connections.EnumerateObject())
                {
                    found.Add(DockerCliConfig.Shaped(path, "podman CLI", () => new PodmanConnection
                    {
                        Name = property.Name,
                        Uri = CliJson.String(property.Value, "URI"),
                        Identity = CliJson.String(property.Value, "Identity"),
                        IsMachine = CliJson.Boolean(property.Value, "IsMachine") ?? false,
                        Source = path,
                    }));
                }
            }
            foreach (var path in ConfFiles(environment))
            {
                string text;
                try { text = File.Exists(path) ? File.ReadAllText(path) : null; }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { text = null; }
                if (text == null) continue;
                var conf = ParseContainersConf(text, path);
                if (defaultName == null && conf.ActiveService != null) { defaultName = conf.ActiveService; defaultSource = path; }
                found.AddRange(conf.Destinations.Where(d => found.All(f => f.Name != d.Name)));
            }
            return found;
        }

        /// <summary>containers.conf's connection settings, from a minimal TOML reading of the [engine] tables.</summary>
        public static (string ActiveService, IReadOnlyList<PodmanConnection> Destinations) ParseContainersConf(string text, string source)
        {
            string section = null;
            string active = null;
            var destinations = new List<PodmanConnection>();
            PodmanConnection current = null;
            foreach (var raw in text.Split('\n'))
            {
                var line = StripComment(raw).Trim();
                if (line.Length == 0) continue;
                if (line.StartsWith('['))
                {
                    section = line.Trim('[', ']').Trim();
                    current = null;
                    const string prefix = "engine.service_destinations.";
                    if (section.StartsWith(prefix, StringComparison.Ordinal))
                    {
                        current = new PodmanConnection { Name = Unquote(section.Substring(prefix.Length)), Source = source };
                        destinations.Add(current);
                    }
                    continue;
                }
                var eq = line.IndexOf('=');
                if (eq < 0) continue;
                var key = line.Substring(0, eq).Trim();
                var value = line.Substring(eq + 1).Trim();
                if (section == "engine" && key == "active_service") active = Unquote(value);
                else if (current != null && key == "uri") current.Uri = Unquote(value);
                else if (current != null && key == "identity") current.Identity = Unquote(value);
                else if (current != null && key == "is_machine") current.IsMachine = value == "true";
            }
            return (active, destinations);
        }

        internal static IEnumerable<string> JsonFiles(Func<string, string> environment)
        {
            var configured = environment("PODMAN_CONNECTIONS_CONF");
            if (!string.IsNullOrWhiteSpace(configured)) { yield return configured; yield break; }
            var user = UserConfigDir(environment);
            if (user != null) yield return Path.Combine(user, "containers", "podman-connections.json");
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) yield return "/etc/containers/podman-connections.json";
        }

        internal static IEnumerable<string> ConfFiles(Func<string, string> environment)
        {
            var configured = environment("CONTAINERS_CONF");
            if (!string.IsNullOrWhiteSpace(configured)) { yield return configured; yield break; }
            var user = UserConfigDir(environment);
            if (user != null) yield return Path.Combine(user, "containers", "containers.conf");
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) yield break;
            yield return "/etc/containers/containers.conf";
            yield return "/usr/share/containers/containers.conf";
        }

        private static string UserConfigDir(Func<string, string> environment)
        {
            var xdg = environment("XDG_CONFIG_HOME");
            if (!string.IsNullOrWhiteSpace(xdg)) return xdg;
            var home = DockerCliConfig.Home(environment);
            return home == null ? null : Path.Combine(home, ".config");
        }

        private static string StripComment(string line)
        {
            var quoted = false;
            for (var i = 0; i < line.Length; i++)
            {
                if (line[i] == '"') quoted = !quoted;
                else if (line[i] == '#' && !quoted) return line.Substring(0, i);
            }
            return line;
        }

        private static string Unquote(string value)
        {
            value = value.Trim();
            return value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[value.Length - 1] == value[0] ? value.Substring(1, value.Length - 2) : value;
        }
    }
}
