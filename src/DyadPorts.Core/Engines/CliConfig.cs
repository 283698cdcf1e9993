using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Newtonsoft.Json.Linq;

namespace DyadPorts.Core.Engines
{
    /// <summary>The TLS files a tcp:// engine is reached with: the CA the server is verified against, and the client's certificate and key.</summary>
    public sealed class EngineTls
    {
        public EngineTls(string directory, string source)
        {
            CaPath = Path.Combine(directory, "ca.pem");
            CertPath = Path.Combine(directory, "cert.pem");
            KeyPath = Path.Combine(directory, "key.pem");
            Source = source;
        }

        public string CaPath { get; }
        public string CertPath { get; }
        public string KeyPath { get; }
        /// <summary>Where they came from: "DOCKER_CERT_PATH", "docker context remote".</summary>
        public string Source { get; }

        public override string ToString() => $"ca {CaPath}, cert {CertPath}, key {KeyPath} (from {Source})";
    }

    /// <summary>A docker context as the docker CLI stores it under $DOCKER_CONFIG/contexts.</summary>
    public sealed class DockerContext
    {
        public string Name { get; set; }
        public string Host { get; set; }
        public bool SkipTlsVerify { get; set; }
        /// <summary>The context's own TLS folder (contexts/tls/&lt;sha256&gt;/docker), when it has one.</summary>
        public EngineTls Tls { get; set; }
    }

    /// <summary>Reads docker's CLI configuration: the current context and each context's endpoint and TLS files.</summary>
    public static class DockerCliConfig
    {
        /// <summary>$DOCKER_CONFIG, else ~/.docker.</summary>
        public static string Directory(Func<string, string> environment)
        {
            var configured = environment("DOCKER_CONFIG");
            if (!string.IsNullOrWhiteSpace(configured)) return configured;
            var home = Home(environment);
            return home == null ? null : Path.Combine(home, ".docker");
        }

        /// <summary>The context the docker CLI would use and the rule that chose it; null (or "default") when none is set.</summary>
        public static string CurrentContext(Func<string, string> environment, out string rule)
        {
            var fromVariable = environment("DOCKER_CONTEXT");
            if (!string.IsNullOrWhiteSpace(fromVariable))
            {
                rule = $"DOCKER_CONTEXT={fromVariable.Trim()}";
                return fromVariable.Trim();
            }
            rule = null;
            var dir = Directory(environment);
            if (dir == null) return null;
            var config = Path.Combine(dir, "config.json");
            var json = ReadJson(config);
            var current = json?.Value<string>("currentContext");
            if (string.IsNullOrWhiteSpace(current)) return null;
            rule = $"currentContext '{current}' in {config}";
            return current;
        }

        /// <summary>The named context; null when the CLI has no such context.</summary>
        public static DockerContext Find(string name, Func<string, string> environment)
        {
            var dir = Directory(environment);
            if (dir == null) return null;
            var id = Sha256(name);
            var meta = ReadJson(Path.Combine(dir, "contexts", "meta", id, "meta.json"));
            if (meta == null) return null;
            var docker = meta["Endpoints"]?["docker"];
            var tlsDir = Path.Combine(dir, "contexts", "tls", id, "docker");
            return new DockerContext
            {
                Name = meta.Value<string>("Name") ?? name,
                Host = docker?.Value<string>("Host"),
                SkipTlsVerify = docker?.Value<bool?>("SkipTLSVerify") ?? false,
                Tls = System.IO.Directory.Exists(tlsDir) ? new EngineTls(tlsDir, $"docker context {name}") : null,
            };
        }

        /// <summary>Every context the CLI has (for the TLS files of an endpoint that a record names).</summary>
        public static IEnumerable<DockerContext> All(Func<string, string> environment)
        {
            var dir = Directory(environment);
            var metaDir = dir == null ? null : Path.Combine(dir, "contexts", "meta");
            if (metaDir == null || !System.IO.Directory.Exists(metaDir)) yield break;
            foreach (var folder in System.IO.Directory.EnumerateDirectories(metaDir))
            {
                var name = ReadJson(Path.Combine(folder, "meta.json"))?.Value<string>("Name");
                if (name == null) continue;
                var context = Find(name, environment);
                if (context != null) yield return context;
            }
        }

        /// <summary>The lower-case hex SHA-256 of a context name: the folder name docker uses.</summary>
        public static string Sha256(string name)
        {
            return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(name))).ToLowerInvariant();
        }

        internal static string Home(Func<string, string> environment)
        {
            var home = environment("HOME");
            if (string.IsNullOrWhiteSpace(home)) home = environment("USERPROFILE");
            return string.IsNullOrWhiteSpace(home) ? null : home;
        }

        internal static JObject ReadJson(string path)
        {
            try
            {
                return File.Exists(path) ? JObject.Parse(File.ReadAllText(path)) : null;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is Newtonsoft.Json.JsonException)
            {
                return null;
            }
        }
    }

    /// <summary>A podman system connection.</summary>
    public sealed class PodmanConnection
    {
        public string Name { get; set; }
        public string Uri { get; set; }
        public string Identity { get; set; }
        public bool IsMachine { get; set; }
        /// <summary>The file it was read from.</summary>
        public string Source { get; set; }
    }

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
                var json = DockerCliConfig.ReadJson(path);
                if (json == null) continue;
                var section = json["Connection"] as JObject;
                var name = section?.Value<string>("Default");
                if (defaultName == null && !string.IsNullOrEmpty(name)) { defaultName = name; defaultSource = path; }
                foreach (var property in (section?["Connections"] as JObject)?.Properties() ?? Enumerable.Empty<JProperty>())
                {
                    found.Add(new PodmanConnection
                    {
                        Name = property.Name,
                        Uri = property.Value.Value<string>("URI"),
                        Identity = property.Value.Value<string>("Identity"),
                        IsMachine = property.Value.Value<bool?>("IsMachine") ?? false,
                        Source = path,
                    });
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

    /// <summary>
    /// A podman machine's forwarded API socket: what `podman machine inspect` reports as ConnectionInfo.PodmanSocket,
    /// else the places podman 5 and podman 4 put it.
    /// </summary>
    public static class PodmanMachine
    {
        /// <summary>A podman machine connection is an ssh:// URI to localhost (or flagged IsMachine).</summary>
        public static bool IsMachine(PodmanConnection connection)
        {
            if (connection.IsMachine) return true;
            return System.Uri.TryCreate(connection.Uri ?? "", UriKind.Absolute, out var uri) && uri.Scheme == "ssh" &&
                   (uri.Host == "localhost" || uri.Host == "127.0.0.1" || uri.Host == "[::1]" || uri.Host == "::1");
        }

        /// <summary>"podman-machine-default-root" belongs to machine "podman-machine-default".</summary>
        public static string MachineName(string connectionName) =>
            connectionName.EndsWith("-root", StringComparison.Ordinal) ? connectionName.Substring(0, connectionName.Length - 5) : connectionName;

        private static readonly TimeSpan InspectTimeout = TimeSpan.FromSeconds(10);

        /// <summary>
        /// The socket path `podman machine inspect NAME` reports; null when podman is not on the environment's PATH, says
        /// nothing, or takes longer than 10 s (it is then killed). Cancelling kills it too, and throws.
        /// </summary>
        public static string Inspect(string machine, Func<string, string> environment, System.Threading.CancellationToken cancellationToken)
        {
            var podman = FindOnPath(RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "podman.exe" : "podman", environment("PATH"));
            if (podman == null) return null;
            try
            {
                var start = new ProcessStartInfo(podman) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                start.ArgumentList.Add("machine");
                start.ArgumentList.Add("inspect");
                start.ArgumentList.Add(machine);
                using (var process = Process.Start(start))
                using (var timeout = System.Threading.CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    timeout.CancelAfter(InspectTimeout);
                    var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
                    _ = process.StandardError.ReadToEndAsync(timeout.Token);
                    try
                    {
                        process.WaitForExitAsync(timeout.Token).GetAwaiter().GetResult();
                    }
                    catch (OperationCanceledException)
                    {
                        try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } catch (System.ComponentModel.Win32Exception) { }
                        cancellationToken.ThrowIfCancellationRequested();
                        return null;
                    }
                    return process.ExitCode == 0 ? SocketFromInspect(output.GetAwaiter().GetResult()) : null;
                }
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception || e is InvalidOperationException || e is IOException)
            {
                return null;
            }
        }

        /// <summary>The first executable file of that name in the PATH's folders; null when none has it.</summary>
        public static string FindOnPath(string name, string path)
        {
            if (string.IsNullOrWhiteSpace(path)) return null;
            foreach (var folder in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                string candidate;
                try { candidate = Path.Combine(folder.Trim(), name); }
                catch (ArgumentException) { continue; }
                if (File.Exists(candidate)) return candidate;
            }
            return null;
        }

        /// <summary>ConnectionInfo.PodmanSocket.Path (or PodmanPipe.Path on Windows) from `podman machine inspect` output.</summary>
        public static string SocketFromInspect(string json)
        {
            try
            {
                var token = JToken.Parse(json);
                var machine = token is JArray array ? array.FirstOrDefault() : token;
                var info = machine?["ConnectionInfo"];
                return info?["PodmanSocket"]?.Value<string>("Path") ?? info?["PodmanPipe"]?.Value<string>("Path");
            }
            catch (Newtonsoft.Json.JsonException)
            {
                return null;
            }
        }

        /// <summary>Where the machine's API socket is when podman cannot be asked: podman 5's, then podman 4's places.</summary>
        public static IReadOnlyList<string> Candidates(string machine, Func<string, string> environment)
        {
            var list = new List<string>();
            var tmp = environment("TMPDIR");
            if (!string.IsNullOrWhiteSpace(tmp)) list.Add(Path.Combine(tmp, "podman", machine + "-api.sock"));
            var runtime = environment("XDG_RUNTIME_DIR");
            if (!string.IsNullOrWhiteSpace(runtime)) list.Add(Path.Combine(runtime, "podman", machine + "-api.sock"));
            var home = DockerCliConfig.Home(environment);
            if (home != null)
            {
                var data = environment("XDG_DATA_HOME");
                var root = Path.Combine(string.IsNullOrWhiteSpace(data) ? Path.Combine(home, ".local", "share") : data, "containers", "podman", "machine");
                list.Add(Path.Combine(root, machine, "podman.sock"));
                foreach (var provider in new[] { "applehv", "libkrun", "qemu" }) list.Add(Path.Combine(root, provider, "podman.sock"));
            }
            return list;
        }
    }
}
