using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using DyadPorts.Core.Diagnostics;

namespace DyadPorts.Core.Engines
{
    /// <summary>Which engine to talk to, where, and why that one was chosen.</summary>
    public sealed class EngineTarget
    {
        public EngineTarget(EngineKind kind, string endpoint, bool isExplicit, string reason, EngineTls tls = null)
        {
            Kind = kind;
            Endpoint = endpoint;
            IsExplicit = isExplicit;
            Reason = reason;
            Tls = tls;
        }

        /// <summary>Docker, Podman, Process, or Auto while the endpoint's engine is not yet known.</summary>
        public EngineKind Kind { get; }
        /// <summary>The API endpoint; null for the process engine.</summary>
        public string Endpoint { get; }
        /// <summary>Asked for by parameter or configuration: if it does not answer, that is an error, not a fallback.</summary>
        public bool IsExplicit { get; }
        public string Reason { get; }
        /// <summary>The TLS files for a tcp:// endpoint (DOCKER_TLS_VERIFY + DOCKER_CERT_PATH, or a context's); null for none.</summary>
        public EngineTls Tls { get; }
        public bool IsContainerEngine => Kind != EngineKind.Process;

        public override string ToString() => Endpoint == null ? Kind.ToString() : $"{Kind} at {Endpoint}";
    }

    /// <summary>The sockets at fixed system paths that the default-socket rule probes before the user's own (Unix only).</summary>
    public sealed class SystemSockets
    {
        public SystemSockets(IReadOnlyList<string> podman, IReadOnlyList<string> docker)
        {
            Podman = podman;
            Docker = docker;
        }

        /// <summary>Rootful podman's socket; dockerd's, under both spellings of /run.</summary>
        public static SystemSockets Default { get; } = new SystemSockets(new[] { "/run/podman/podman.sock" }, new[] { "/var/run/docker.sock", "/run/docker.sock" });

        public IReadOnlyList<string> Podman { get; }
        public IReadOnlyList<string> Docker { get; }
    }

    /// <summary>
    /// Resolves the engine the way the user's CLI would; the first rule that applies wins, and -Verbose names it.
    /// 1. -Engine Process; -EngineEndpoint; then DOCKER_HOST / CONTAINER_HOST (CONTAINERIZATION_ENABLED=false first, for Auto).
    /// 2. The family: -Engine, else CONTAINERIZATION_ENGINE. When set, only that family's context or connection and sockets count.
    /// 3. Docker's context: DOCKER_CONTEXT, else currentContext in $DOCKER_CONFIG/config.json ("default" means none).
    /// 4. Podman's connection: CONTAINER_CONNECTION, else the default connection (podman-connections.json, containers.conf).
    ///    A podman machine connection (ssh://…@localhost) means the machine's forwarded API socket; any other ssh:// is EngineSshUnsupported.
    /// 5. The default sockets, podman's first, including Docker Desktop's ~/.docker/run/docker.sock and the podman machine's.
    /// </summary>
    public static class EngineResolver
    {
        public static EngineTarget Resolve(EngineKind requested, string endpoint, Func<string, string> environment, Func<string, bool> answers) =>
            Resolve(requested, endpoint, environment, answers, null);

        /// <param name="machineSocket">A podman machine's API socket path by machine name; null asks `podman machine inspect`, then looks in the usual places.</param>
        /// <param name="system">The sockets at fixed system paths the default-socket rule probes; null for <see cref="SystemSockets.Default"/>.</param>
        public static EngineTarget Resolve(EngineKind requested, string endpoint, Func<string, string> environment, Func<string, bool> answers, Func<string, string> machineSocket, SystemSockets system = null)
        {
            if (requested == EngineKind.Process) return new EngineTarget(EngineKind.Process, null, true, "-Engine Process");
            if (!string.IsNullOrWhiteSpace(endpoint)) return Explicit(requested, endpoint, "-EngineEndpoint", environment);

            if (requested == EngineKind.Auto && Session.EnvironmentFlags.Parse(environment("CONTAINERIZATION_ENABLED")) == false)
            {
                return new EngineTarget(EngineKind.Process, null, true, "CONTAINERIZATION_ENABLED=false");
            }
            if (requested != EngineKind.Podman && environment("DOCKER_HOST") is string dockerHost && !string.IsNullOrWhiteSpace(dockerHost))
            {
                return Explicit(requested, dockerHost, requested == EngineKind.Auto ? "DOCKER_HOST" : $"-Engine {requested} with DOCKER_HOST", environment);
            }
            if (requested != EngineKind.Docker && environment("CONTAINER_HOST") is string containerHost && !string.IsNullOrWhiteSpace(containerHost))
            {
                return Explicit(EngineKind.Podman, containerHost, requested == EngineKind.Auto ? "CONTAINER_HOST" : $"-Engine {requested} with CONTAINER_HOST", environment);
            }

            // The family comes before any endpoint: Docker Desktop's currentContext must not override CONTAINERIZATION_ENGINE=podman.
            EngineKind? family = null;
            string familyRule = null;
            if (requested == EngineKind.Docker || requested == EngineKind.Podman) { family = requested; familyRule = $"-Engine {requested}"; }
            else if (environment("CONTAINERIZATION_ENGINE") is string configured && !string.IsNullOrWhiteSpace(configured))
            {
                family = ParseEngineName(configured);
                familyRule = $"CONTAINERIZATION_ENGINE={configured.Trim()}";
            }
            var prefix = familyRule == null ? "" : familyRule + ", then ";

            if (family != EngineKind.Podman)
            {
                var context = DockerCliConfig.CurrentContext(environment, out var rule);
                if (context != null && context != "default")
                {
                    var found = DockerCliConfig.Find(context, environment)
                        ?? throw new DyadPortsException(ErrorIds.InvalidEngineEndpoint, FailureCategory.InvalidArgument, context,
                            $"The docker context '{context}' ({rule}) does not exist under {DockerCliConfig.Directory(environment)}. 'docker context ls' lists the contexts; 'docker context use default' clears the choice.");
                    if (string.IsNullOrWhiteSpace(found.Host))
                    {
                        throw new DyadPortsException(ErrorIds.InvalidEngineEndpoint, FailureCategory.InvalidArgument, context, $"The docker context '{context}' ({rule}) has no docker endpoint.");
                    }
                    var host = Normalize(found.Host, $"docker context '{context}'");
                    var tls = host.StartsWith("tcp://", StringComparison.Ordinal) && !found.SkipTlsVerify ? found.Tls : null;
                    return new EngineTarget(family ?? EngineKind.Auto, host, true, prefix + $"docker context '{context}' ({rule})", tls);
                }
            }
            if (family != EngineKind.Docker)
            {
                var connection = PodmanCliConfig.Current(environment, out var rule);
                if (connection != null)
                {
                    if (string.IsNullOrWhiteSpace(connection.Uri))
                    {
                        throw new DyadPortsException(ErrorIds.InvalidEngineEndpoint, FailureCategory.InvalidArgument, connection.Name,
                            $"The podman connection '{connection.Name}' ({rule}) does not exist or has no URI. 'podman system connection list' lists the connections.");
                    }
                    var why = prefix + $"podman connection '{connection.Name}' ({rule})";
                    if (PodmanMachine.IsMachine(connection))
                    {
                        var machine = PodmanMachine.MachineName(connection.Name);
                        var socket = (machineSocket ?? (m => PodmanMachine.Inspect(m, environment, System.Threading.CancellationToken.None) ?? PodmanMachine.Candidates(m, environment).FirstOrDefault(File.Exists)))(machine);
                        if (socket == null)
                        {
                            throw new DyadPortsException(ErrorIds.EngineUnreachable, FailureCategory.ConnectionError, connection.Uri,
                                $"The podman connection '{connection.Name}' ({rule}) is podman machine '{machine}', but its API socket was not found ('podman machine inspect {machine}' reports it as ConnectionInfo.PodmanSocket). Start the machine with 'podman machine start {machine}'.");
                        }
                        return new EngineTarget(EngineKind.Podman, Normalize(socket), true, why + $", podman machine '{machine}' API socket");
                    }
                    return new EngineTarget(EngineKind.Podman, Normalize(connection.Uri, $"podman connection '{connection.Name}'"), true, why);
                }
            }

            if (family != null)
            {
                return FirstAnswering(family.Value, DefaultSockets(family.Value, environment, system), answers, familyRule + ", default socket");
            }
            // dyad's own default is podman, so its sockets are probed first.
            foreach (var kind in new[] { EngineKind.Podman, EngineKind.Docker })
            {
                var socket = DefaultSockets(kind, environment, system).FirstOrDefault(answers);
                if (socket != null) return new EngineTarget(kind, socket, false, "default socket that answered");
            }
            return new EngineTarget(EngineKind.Process, null, false, "no container engine answered on the default sockets");
        }

        private static EngineTarget Explicit(EngineKind kind, string endpoint, string rule, Func<string, string> environment)
        {
            var normalized = Normalize(endpoint, rule);
            return new EngineTarget(kind, normalized, true, rule, TlsFor(normalized, environment));
        }

        /// <summary>
        /// The TLS files for a tcp:// endpoint: DOCKER_TLS_VERIFY=1 with DOCKER_CERT_PATH (default ~/.docker), else the
        /// files of a docker context whose endpoint it is; null when neither applies (plain tcp, unix, npipe).
        /// </summary>
        public static EngineTls TlsFor(string endpoint, Func<string, string> environment)
        {
            if (endpoint == null || !endpoint.StartsWith("tcp://", StringComparison.Ordinal)) return null;
            var verify = environment("DOCKER_TLS_VERIFY");
            if (!string.IsNullOrWhiteSpace(verify) && verify.Trim() != "0" && Session.EnvironmentFlags.Parse(verify) != false)
            {
                var path = environment("DOCKER_CERT_PATH");
                if (string.IsNullOrWhiteSpace(path)) path = DockerCliConfig.Directory(environment);
                return new EngineTls(path, "DOCKER_TLS_VERIFY and " + (string.IsNullOrWhiteSpace(environment("DOCKER_CERT_PATH")) ? "the default cert path" : "DOCKER_CERT_PATH"));
            }
            var context = DockerCliConfig.All(environment).FirstOrDefault(c => string.Equals(c.Host, endpoint, StringComparison.OrdinalIgnoreCase) && c.Tls != null && !c.SkipTlsVerify);
            return context?.Tls;
        }

        public static EngineKind ParseEngineName(string name)
        {
            switch (name.Trim().ToLowerInvariant())
            {
                case "podman": return EngineKind.Podman;
                case "docker": return EngineKind.Docker;
                default:
                    throw new DyadPortsException(ErrorIds.InvalidEngineEndpoint, FailureCategory.InvalidArgument, name,
                        $"CONTAINERIZATION_ENGINE='{name}' is not an engine DyadPorts knows; use podman or docker.");
            }
        }

        public static IReadOnlyList<string> DefaultSockets(EngineKind kind, Func<string, string> environment, SystemSockets system = null)
        {
            system = system ?? SystemSockets.Default;
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                return kind == EngineKind.Podman
                    ? new[] { "npipe://./pipe/podman-machine-default" }
                    : new[] { "npipe://./pipe/docker_engine" };
            }
            var runtimeDir = environment("XDG_RUNTIME_DIR");
            var home = environment("HOME");
            var sockets = kind == EngineKind.Podman
                ? system.Podman.Concat(new[] { Combine(runtimeDir, "podman/podman.sock") })
                    .Concat(PodmanMachine.Candidates("podman-machine-default", environment)).ToArray()
                : system.Docker.Concat(new[] { Combine(home, ".docker/run/docker.sock") }).ToArray();
            return sockets.Where(s => s != null).Distinct().Select(s => "unix://" + s).ToArray();
        }

        /// <summary>Unix paths become unix:// URIs; anything else must already be a URI the client understands. ssh:// is EngineSshUnsupported.</summary>
        public static string Normalize(string endpoint, string rule = null)
        {
            endpoint = endpoint.Trim();
            if (endpoint.StartsWith("ssh://", StringComparison.OrdinalIgnoreCase))
            {
                Uri.TryCreate(endpoint, UriKind.Absolute, out var ssh);
                var remotePath = ssh != null && ssh.AbsolutePath.Length > 1 ? ssh.AbsolutePath : "/run/podman/podman.sock";
                throw new DyadPortsException(ErrorIds.EngineSshUnsupported, FailureCategory.InvalidOperation, endpoint,
                    $"The engine destination '{endpoint}'{(rule == null ? "" : $" ({rule})")} is an ssh:// destination, which DyadPorts' Docker API client cannot reach. " +
                    $"Forward its socket and point DyadPorts at the forwarded one, for example 'ssh -nNT -L /tmp/dyad-engine.sock:{remotePath} {ssh?.UserInfo}{(ssh?.UserInfo?.Length > 0 ? "@" : "")}{ssh?.Host}' " +
                    "and then DOCKER_HOST=unix:///tmp/dyad-engine.sock (or -EngineEndpoint), or serve the engine on tcp:// with TLS.");
            }
            if (endpoint.StartsWith('/')) return "unix://" + endpoint;
            if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) ||
                !new[] { "unix", "npipe", "tcp", "http", "https" }.Contains(uri.Scheme))
            {
                throw new DyadPortsException(ErrorIds.InvalidEngineEndpoint, FailureCategory.InvalidArgument, endpoint,
                    $"'{endpoint}' is not an engine endpoint; use unix:///path/to.sock, npipe://./pipe/name or tcp://host:port.");
            }
            return endpoint;
        }

        private static EngineTarget FirstAnswering(EngineKind kind, IReadOnlyList<string> sockets, Func<string, bool> answers, string reason)
        {
            var socket = sockets.FirstOrDefault(answers) ?? sockets[0];
            return new EngineTarget(kind, socket, true, reason);
        }

        private static string Combine(string root, string relative) => string.IsNullOrEmpty(root) ? null : Path.Combine(root, relative);
    }
}
