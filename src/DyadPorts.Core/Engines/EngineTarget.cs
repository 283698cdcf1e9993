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
        public EngineTarget(EngineKind kind, string endpoint, bool isExplicit, string reason)
        {
            Kind = kind;
            Endpoint = endpoint;
            IsExplicit = isExplicit;
            Reason = reason;
        }

        /// <summary>Docker, Podman, Process, or Auto while the endpoint's engine is not yet known.</summary>
        public EngineKind Kind { get; }
        /// <summary>The API endpoint; null for the process engine.</summary>
        public string Endpoint { get; }
        /// <summary>Asked for by parameter or configuration: if it does not answer, that is an error, not a fallback.</summary>
        public bool IsExplicit { get; }
        public string Reason { get; }
        public bool IsContainerEngine => Kind != EngineKind.Process;

        public override string ToString() => Endpoint == null ? Kind.ToString() : $"{Kind} at {Endpoint}";
    }

    /// <summary>
    /// Resolves the engine, first match wins: parameters; DOCKER_HOST / CONTAINER_HOST;
    /// CONTAINERIZATION_ENGINE with that engine's default sockets; the first default socket that answers.
    /// CONTAINERIZATION_ENABLED=false selects the process engine.
    /// </summary>
    public static class EngineResolver
    {
        public static EngineTarget Resolve(EngineKind requested, string endpoint, Func<string, string> environment, Func<string, bool> answers)
        {
            if (requested == EngineKind.Process) return new EngineTarget(EngineKind.Process, null, true, "-Engine Process");
            if (!string.IsNullOrWhiteSpace(endpoint)) return new EngineTarget(requested, Normalize(endpoint), true, "-EngineEndpoint");

            if (requested == EngineKind.Docker || requested == EngineKind.Podman)
            {
                var variable = requested == EngineKind.Docker ? "DOCKER_HOST" : "CONTAINER_HOST";
                var fromVariable = environment(variable);
                if (!string.IsNullOrWhiteSpace(fromVariable)) return new EngineTarget(requested, Normalize(fromVariable), true, $"-Engine {requested} with {variable}");
                return FirstAnswering(requested, DefaultSockets(requested, environment), answers, $"-Engine {requested}");
            }

            if (Session.EnvironmentFlags.Parse(environment("CONTAINERIZATION_ENABLED")) == false)
            {
                return new EngineTarget(EngineKind.Process, null, true, "CONTAINERIZATION_ENABLED=false");
            }
            var dockerHost = environment("DOCKER_HOST");
            if (!string.IsNullOrWhiteSpace(dockerHost)) return new EngineTarget(EngineKind.Auto, Normalize(dockerHost), true, "DOCKER_HOST");
            var containerHost = environment("CONTAINER_HOST");
            if (!string.IsNullOrWhiteSpace(containerHost)) return new EngineTarget(EngineKind.Podman, Normalize(containerHost), true, "CONTAINER_HOST");

            var configured = environment("CONTAINERIZATION_ENGINE");
            if (!string.IsNullOrWhiteSpace(configured))
            {
                var kind = ParseEngineName(configured);
                return FirstAnswering(kind, DefaultSockets(kind, environment), answers, $"CONTAINERIZATION_ENGINE={configured}");
            }

            // dyad's own default is podman, so its sockets are probed first.
            foreach (var kind in new[] { EngineKind.Podman, EngineKind.Docker })
            {
                var socket = DefaultSockets(kind, environment).FirstOrDefault(answers);
                if (socket != null) return new EngineTarget(kind, socket, false, "default socket that answered");
            }
            return new EngineTarget(EngineKind.Process, null, false, "no container engine answered on the default sockets");
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

        public static IReadOnlyList<string> DefaultSockets(EngineKind kind, Func<string, string> environment)
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                return kind == EngineKind.Podman
                    ? new[] { "npipe://./pipe/podman-machine-default" }
                    : new[] { "npipe://./pipe/docker_engine" };
            }
            var runtimeDir = environment("XDG_RUNTIME_DIR");
            var home = environment("HOME");
            var sockets = kind == EngineKind.Podman
                ? new[] { "/run/podman/podman.sock", Combine(runtimeDir, "podman/podman.sock") }
                : new[] { "/var/run/docker.sock", "/run/docker.sock", Combine(home, ".docker/run/docker.sock") };
            return sockets.Where(s => s != null).Distinct().Select(s => "unix://" + s).ToArray();
        }

        /// <summary>Unix paths become unix:// URIs; anything else must already be a URI the client understands.</summary>
        public static string Normalize(string endpoint)
        {
            endpoint = endpoint.Trim();
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
