using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using DyadPorts.Core.Diagnostics;

namespace DyadPorts.Core.Engines
{
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
            var json = CliJson.Read(config);
            var current = Shaped(config, "docker CLI", () => CliJson.String(json, "currentContext"));
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
            var path = Path.Combine(dir, "contexts", "meta", id, "meta.json");
            var meta = CliJson.Read(path);
            if (meta == null) return null;
            var tlsDir = Path.Combine(dir, "contexts", "tls", id, "docker");
            return Shaped(path, "docker CLI", () =>
            {
                var docker = CliJson.Member(CliJson.Member(meta, "Endpoints"), "docker");
                return new DockerContext
                {
                    Name = CliJson.String(meta, "Name") ?? name,
                    Host = CliJson.String(docker, "Host"),
                    SkipTlsVerify = CliJson.Boolean(docker, "SkipTLSVerify") ?? false,
                    Tls = System.IO.Directory.Exists(tlsDir) ? new EngineTls(tlsDir, $"docker context {name}") : null,
                };
            });
        }

        /// <summary>Every context the CLI has (for the TLS files of an endpoint that a record names).</summary>
        public static IEnumerable<DockerContext> All(Func<string, string> environment)
        {
            var dir = Directory(environment);
            var metaDir = dir == null ? null : Path.Combine(dir, "contexts", "meta");
            if (metaDir == null || !System.IO.Directory.Exists(metaDir)) yield break;
            foreach (var folder in System.IO.Directory.EnumerateDirectories(metaDir))
            {
                DockerContext context;
                try
                {
                    var path = Path.Combine(folder, "meta.json");
                    var name = Shaped(path, "docker CLI", () => CliJson.String(CliJson.Read(path), "Name"));
                    context = name == null ? null : Find(name, environment);
                }
                catch (DyadPortsException e) when (e.ErrorId == ErrorIds.InvalidEngineEndpoint)
                {
                    continue; // a context the CLI could not use either: it offers no TLS files for anything
                }
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

        /// <summary>
        /// Reads values out of a CLI file's JSON; a value of another shape than the CLI writes (a string where an object
        /// goes) is InvalidEngineEndpoint naming the file, never the reader's own exception.
        /// </summary>
        internal static T Shaped<T>(string path, string writer, Func<T> read)
        {
            try
            {
                return read();
            }
            catch (Exception e) when (JsonShape.IsMismatch(e))
            {
                throw new DyadPortsException(ErrorIds.InvalidEngineEndpoint, FailureCategory.InvalidData, path,
                    $"'{path}' is not as the {writer} writes it ({e.Message}). Fix it or move it aside, or name the engine with DOCKER_HOST, CONTAINER_HOST or -EngineEndpoint.", e);
            }
        }
    }
}
