using System;
using System.Collections.Generic;
using System.IO;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>
    /// <see cref="EngineResolver"/>: the engine found the way the user's CLI finds it: the parameter, DOCKER_HOST, CONTAINER_HOST, docker contexts, podman connections (podman 4's containers.conf and
    /// podman 5's podman-connections.json, from fixture text), podman machines, ssh:// refused by name. Every test has its own
    /// HOME, DOCKER_CONFIG, CONTAINERS_CONF and PODMAN_CONNECTIONS_CONF: the machine's real CLI configuration is never read.
    /// </summary>
    public sealed class EngineResolverTests : IDisposable
    {
        private readonly string _home = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "dpt-resolver-" + Guid.NewGuid().ToString("N"))).FullName;
        private readonly Dictionary<string, string> _env;

        public EngineResolverTests()
        {
            _env = new Dictionary<string, string>
            {
                ["HOME"] = _home,
                ["DOCKER_CONFIG"] = Path.Combine(_home, ".docker"),
                ["CONTAINERS_CONF"] = Path.Combine(_home, "containers.conf"),
                ["PODMAN_CONNECTIONS_CONF"] = Path.Combine(_home, "podman-connections.json"),
            };
        }

        public void Dispose() => Directory.Delete(_home, true);

        private EngineTarget Resolve(EngineKind kind = EngineKind.Auto, string endpoint = null, Func<string, string> machine = null, params string[] answering) =>
            EngineResolver.Resolve(kind, endpoint, v => _env.TryGetValue(v, out var x) ? x : null, s => Array.IndexOf(answering, s) >= 0, machine ?? (_ => null));

        /// <summary>A context laid out as `docker context create` lays it out.</summary>
        private string DockerContext(string name, string host, bool withTls = true)
        {
            var id = DockerCliConfig.Sha256(name);
            var meta = Directory.CreateDirectory(Path.Combine(_home, ".docker", "contexts", "meta", id)).FullName;
            File.WriteAllText(Path.Combine(meta, "meta.json"),
                "{\"Name\":\"" + name + "\",\"Metadata\":{\"Description\":\"\"},\"Endpoints\":{\"docker\":{\"Host\":\"" + host + "\",\"SkipTLSVerify\":false}}}");
            var tls = Path.Combine(_home, ".docker", "contexts", "tls", id, "docker");
            if (withTls)
            {
                Directory.CreateDirectory(tls);
                foreach (var f in new[] { "ca.pem", "cert.pem", "key.pem" }) File.WriteAllText(Path.Combine(tls, f), "x");
            }
            return tls;
        }

        private void CurrentContext(string name) => File.WriteAllText(Path.Combine(_home, ".docker", "config.json"), "{\"auths\":{},\"currentContext\":\"" + name + "\"}");

        [Fact]
        public void The_context_folder_is_the_sha256_of_its_name()
        {
            Assert.Equal("37a8eec1ce19687d132fe29051dca629d164e2c4958ba141d5f4133a33f0688f", DockerCliConfig.Sha256("default"));
        }

        [Fact]
        public void DOCKER_CONTEXT_selects_the_contexts_endpoint_and_its_tls_files()
        {
            var tls = DockerContext("hostb", "tcp://10.231.12.2:2376");
            DockerContext("other", "unix:///other.sock", withTls: false);
            CurrentContext("other");
            _env["DOCKER_CONTEXT"] = "hostb";
            var t = Resolve();
            Assert.Equal("tcp://10.231.12.2:2376", t.Endpoint);
            Assert.True(t.IsExplicit);
            Assert.Equal(Path.Combine(tls, "ca.pem"), t.Tls.CaPath);
            Assert.Equal(Path.Combine(tls, "key.pem"), t.Tls.KeyPath);
            Assert.Contains("DOCKER_CONTEXT=hostb", t.Reason);
        }

        [Fact]
        public void CurrentContext_in_config_json_is_used_and_default_means_none()
        {
            DockerContext("desktop-linux", "unix:///home/u/.docker/run/docker.sock", withTls: false);
            CurrentContext("desktop-linux");
            var t = Resolve();
            Assert.Equal("unix:///home/u/.docker/run/docker.sock", t.Endpoint);
            Assert.Null(t.Tls);
            Assert.Contains("currentContext 'desktop-linux'", t.Reason);

            CurrentContext("default");
            Assert.Equal("unix:///run/docker.sock", Resolve(answering: "unix:///run/docker.sock").Endpoint);
        }

        [Fact]
        public void The_family_comes_first_CONTAINERIZATION_ENGINE_podman_is_not_overridden_by_a_docker_context()
        {
            DockerContext("desktop-linux", "unix:///home/u/.docker/run/docker.sock", withTls: false);
            CurrentContext("desktop-linux");
            _env["CONTAINERIZATION_ENGINE"] = "podman";
            var t = Resolve(answering: "unix:///run/podman/podman.sock");
            Assert.Equal(EngineKind.Podman, t.Kind);
            Assert.Equal("unix:///run/podman/podman.sock", t.Endpoint);
            Assert.StartsWith("CONTAINERIZATION_ENGINE=podman", t.Reason);

            // and -Engine Docker ignores podman's connection
            File.WriteAllText(_env["CONTAINERS_CONF"], "[engine]\nactive_service = \"p\"\n[engine.service_destinations.p]\nuri = \"unix:///p.sock\"\n");
            _env.Remove("CONTAINERIZATION_ENGINE");
            Assert.Equal("unix:///home/u/.docker/run/docker.sock", Resolve(EngineKind.Docker).Endpoint);
            Assert.Equal("unix:///p.sock", Resolve(EngineKind.Podman).Endpoint);
        }

        [Fact]
        public void A_missing_context_is_an_error_not_a_silent_fall_through()
        {
            _env["DOCKER_CONTEXT"] = "gone";
            var e = Assert.Throws<DyadPortsException>(() => Resolve(answering: "unix:///run/docker.sock"));
            Assert.Equal(ErrorIds.InvalidEngineEndpoint, e.ErrorId);
            Assert.Contains("'gone'", e.Message);
        }

        [Theory]
        [InlineData("{\"Name\":\"bad\",\"Endpoints\":{\"docker\":\"tcp://10.0.0.1:2376\"}}")] // the endpoint as a string, not an object
        [InlineData("{\"Name\":\"bad\",\"Endpoints\":\"tcp://10.0.0.1:2376\"}")]
        [InlineData("{\"Name\":\"bad\",\"Endpoints\":{\"docker\":{\"Host\":{\"url\":\"tcp://10.0.0.1:2376\"}}}}")]
        public void A_context_file_of_another_shape_than_the_cli_writes_is_InvalidEngineEndpoint_naming_the_file(string meta)
        {
            var dir = Directory.CreateDirectory(Path.Combine(_home, ".docker", "contexts", "meta", DockerCliConfig.Sha256("bad"))).FullName;
            File.WriteAllText(Path.Combine(dir, "meta.json"), meta);
            _env["DOCKER_CONTEXT"] = "bad";
            var e = Assert.Throws<DyadPortsException>(() => Resolve(answering: "unix:///run/docker.sock"));
            Assert.Equal(ErrorIds.InvalidEngineEndpoint, e.ErrorId);
            Assert.Equal(FailureCategory.InvalidData, e.Category);
            Assert.Equal(Path.Combine(dir, "meta.json"), e.Target);
            Assert.Empty(DockerCliConfig.All(v => _env.TryGetValue(v, out var x) ? x : null)); // looking up TLS files passes over it
        }

        [Fact]
        public void A_current_context_or_a_podman_connection_of_another_shape_is_InvalidEngineEndpoint_naming_its_file()
        {
            Directory.CreateDirectory(Path.Combine(_home, ".docker"));
            var config = Path.Combine(_home, ".docker", "config.json");
            File.WriteAllText(config, "{\"currentContext\":{\"name\":\"x\"}}");
            var e = Assert.Throws<DyadPortsException>(() => Resolve(answering: "unix:///run/docker.sock"));
            Assert.Equal((ErrorIds.InvalidEngineEndpoint, FailureCategory.InvalidData, (object)config), (e.ErrorId, e.Category, e.Target));

            File.Delete(config);
            File.WriteAllText(_env["PODMAN_CONNECTIONS_CONF"], "{\"Connection\":{\"Default\":\"m\",\"Connections\":{\"m\":\"ssh://core@127.0.0.1:53711/run/podman.sock\"}}}");
            e = Assert.Throws<DyadPortsException>(() => Resolve(EngineKind.Podman, answering: "unix:///run/podman/podman.sock"));
            Assert.Equal((ErrorIds.InvalidEngineEndpoint, FailureCategory.InvalidData, (object)_env["PODMAN_CONNECTIONS_CONF"]), (e.ErrorId, e.Category, e.Target));
        }

        [Fact]
        public void Explicit_endpoints_and_DOCKER_HOST_win_over_contexts_and_connections()
        {
            DockerContext("hostb", "tcp://10.231.12.2:2376");
            _env["DOCKER_CONTEXT"] = "hostb";
            Assert.Equal("unix:///x.sock", Resolve(endpoint: "/x.sock").Endpoint);
            _env["DOCKER_HOST"] = "unix:///d.sock";
            Assert.Equal("unix:///d.sock", Resolve().Endpoint);
        }

        [Fact]
        public void Podman_4_containers_conf_active_service_and_CONTAINER_CONNECTION()
        {
            // As `podman system connection add` (4.3.1) writes it.
            File.WriteAllText(_env["CONTAINERS_CONF"], @"[containers]

[engine]
  runtime = ""runc""
  active_service = ""local""  # the default
  [engine.service_destinations]
    [engine.service_destinations.local]
      uri = ""unix:///run/podman/podman.sock""
    [engine.service_destinations.second]
      uri = ""unix:///srv/second.sock""

[machine]
");
            var t = Resolve();
            Assert.Equal(EngineKind.Podman, t.Kind);
            Assert.Equal("unix:///run/podman/podman.sock", t.Endpoint);
            Assert.Contains("podman connection 'local'", t.Reason);
            _env["CONTAINER_CONNECTION"] = "second";
            Assert.Equal("unix:///srv/second.sock", Resolve().Endpoint);
            _env["CONTAINER_CONNECTION"] = "nope";
            Assert.Equal(ErrorIds.InvalidEngineEndpoint, Assert.Throws<DyadPortsException>(() => Resolve()).ErrorId);
        }

        private const string Podman5Json = @"{
  ""Connection"": {
    ""Default"": ""podman-machine-default-root"",
    ""Connections"": {
      ""podman-machine-default"": {
        ""URI"": ""ssh://core@127.0.0.1:53711/run/user/501/podman/podman.sock"",
        ""Identity"": ""/Users/u/.local/share/containers/podman/machine/machine"",
        ""IsMachine"": true
      },
      ""podman-machine-default-root"": {
        ""URI"": ""ssh://root@127.0.0.1:53711/run/podman/podman.sock"",
        ""Identity"": ""/Users/u/.local/share/containers/podman/machine/machine"",
        ""IsMachine"": true
      },
      ""buildbox"": {
        ""URI"": ""ssh://ops@build.example:22/run/podman/podman.sock"",
        ""Identity"": ""/Users/u/.ssh/id_ed25519""
      }
    }
  },
  ""Farm"": {}
}";

        [Fact]
        public void Podman_5_connections_json_machine_maps_to_the_machines_api_socket()
        {
            File.WriteAllText(_env["PODMAN_CONNECTIONS_CONF"], Podman5Json);
            string asked = null;
            var t = Resolve(machine: m => { asked = m; return "/var/folders/xy/T/podman/podman-machine-default-api.sock"; });
            Assert.Equal("podman-machine-default", asked);
            Assert.Equal(EngineKind.Podman, t.Kind);
            Assert.Equal("unix:///var/folders/xy/T/podman/podman-machine-default-api.sock", t.Endpoint);
            Assert.Contains("podman machine 'podman-machine-default'", t.Reason);
        }

        [Fact]
        public void A_machine_connection_in_containers_conf_is_recognised_by_its_localhost_ssh_uri()
        {
            File.WriteAllText(_env["CONTAINERS_CONF"], "[engine]\nactive_service = \"podman-machine-default\"\n[engine.service_destinations.podman-machine-default]\nuri = \"ssh://core@localhost:50123/run/user/501/podman/podman.sock\"\nidentity = \"/Users/u/.ssh/podman-machine-default\"\n");
            Assert.Equal("unix:///m.sock", Resolve(machine: _ => "/m.sock").Endpoint);
            var e = Assert.Throws<DyadPortsException>(() => Resolve(machine: _ => null));
            Assert.Equal(ErrorIds.EngineUnreachable, e.ErrorId);
            Assert.Contains("podman machine start podman-machine-default", e.Message);
        }

        [Fact]
        public void Any_other_ssh_destination_is_EngineSshUnsupported_naming_it_and_suggesting_a_forwarded_socket()
        {
            File.WriteAllText(_env["PODMAN_CONNECTIONS_CONF"], Podman5Json);
            _env["CONTAINER_CONNECTION"] = "buildbox";
            var e = Assert.Throws<DyadPortsException>(() => Resolve(answering: "unix:///run/podman/podman.sock"));
            Assert.Equal(ErrorIds.EngineSshUnsupported, e.ErrorId);
            Assert.True(e.IsTerminating);
            Assert.Equal("ssh://ops@build.example:22/run/podman/podman.sock", e.Target);
            Assert.Contains("ssh -nNT -L /tmp/dyad-engine.sock:/run/podman/podman.sock ops@build.example", e.Message);

            _env.Remove("CONTAINER_CONNECTION");
            _env["DOCKER_HOST"] = "ssh://me@dockerhost";
            Assert.Equal(ErrorIds.EngineSshUnsupported, Assert.Throws<DyadPortsException>(() => Resolve()).ErrorId);
        }

        [Fact]
        public void Machine_inspect_output_gives_the_podman_socket()
        {
            const string inspect = @"[ { ""ConfigDir"": { ""Path"": ""/Users/u/.config/containers/podman/machine/applehv"" },
                ""ConnectionInfo"": { ""PodmanSocket"": { ""Path"": ""/var/folders/xy/T/podman/podman-machine-default-api.sock"" }, ""PodmanPipe"": null },
                ""Name"": ""podman-machine-default"", ""State"": ""running"" } ]";
            Assert.Equal("/var/folders/xy/T/podman/podman-machine-default-api.sock", PodmanMachine.SocketFromInspect(inspect));
            Assert.Null(PodmanMachine.SocketFromInspect("not json"));
            Assert.Null(PodmanMachine.SocketFromInspect("[]"));
            // Of another shape than podman writes (a string where the socket's object goes): no socket, never a raw exception.
            Assert.Null(PodmanMachine.SocketFromInspect("[{\"ConnectionInfo\":{\"PodmanSocket\":\"/x.sock\"}}]"));
            Assert.Equal("/p.sock", PodmanMachine.SocketFromInspect("{\"ConnectionInfo\":{\"PodmanSocket\":null,\"PodmanPipe\":{\"Path\":\"/p.sock\"}}}"));
        }

        [Fact]
        public void Default_sockets_include_docker_desktops_and_the_podman_machines()
        {
            _env["TMPDIR"] = "/var/folders/xy/T";
            Assert.Contains("unix://" + Path.Combine(_home, ".docker/run/docker.sock"), EngineResolver.DefaultSockets(EngineKind.Docker, v => _env.TryGetValue(v, out var x) ? x : null));
            Assert.Contains("unix:///var/folders/xy/T/podman/podman-machine-default-api.sock", EngineResolver.DefaultSockets(EngineKind.Podman, v => _env.TryGetValue(v, out var x) ? x : null));
        }

        [Fact]
        public void DOCKER_TLS_VERIFY_with_DOCKER_CERT_PATH_gives_tls_files_for_tcp_endpoints_only()
        {
            _env["DOCKER_HOST"] = "tcp://10.231.12.2:2376";
            Assert.Null(Resolve().Tls);
            _env["DOCKER_TLS_VERIFY"] = "1";
            _env["DOCKER_CERT_PATH"] = "/certs";
            var t = Resolve();
            Assert.Equal("/certs/ca.pem", t.Tls.CaPath);
            Assert.Equal("/certs/cert.pem", t.Tls.CertPath);
            _env["DOCKER_HOST"] = "unix:///run/docker.sock";
            Assert.Null(Resolve().Tls);
        }

        [Fact]
        public void Parameter_endpoint_wins_over_everything()
        {
            _env["DOCKER_HOST"] = "unix:///other.sock";
            var t = Resolve(endpoint: "/tmp/x.sock");
            Assert.Equal("unix:///tmp/x.sock", t.Endpoint);
            Assert.True(t.IsExplicit);
        }

        [Fact]
        public void Docker_host_then_container_host_then_configured_engine()
        {
            _env["DOCKER_HOST"] = "unix:///d.sock";
            _env["CONTAINER_HOST"] = "unix:///p.sock";
            Assert.Equal("unix:///d.sock", Resolve().Endpoint);
            _env.Remove("DOCKER_HOST");
            _env["CONTAINERIZATION_ENGINE"] = "docker";
            Assert.Equal(EngineKind.Podman, Resolve().Kind);
            _env.Remove("CONTAINER_HOST");
            var configured = Resolve(answering: "unix:///run/docker.sock");
            Assert.Equal(EngineKind.Docker, configured.Kind);
            Assert.Equal("unix:///run/docker.sock", configured.Endpoint);
            Assert.True(configured.IsExplicit);
        }

        [Fact]
        public void Containerization_disabled_means_the_process_engine()
        {
            _env["CONTAINERIZATION_ENABLED"] = "false";
            _env["CONTAINERIZATION_ENGINE"] = "podman";
            var t = Resolve();
            Assert.Equal(EngineKind.Process, t.Kind);
            Assert.Null(t.Endpoint);
        }

        [Fact]
        public void Probing_prefers_podman_then_docker_and_falls_back_to_processes_without_being_explicit()
        {
            Assert.Equal(EngineKind.Podman, Resolve(answering: new[] { "unix:///run/podman/podman.sock", "unix:///run/docker.sock" }).Kind);
            Assert.Equal(EngineKind.Docker, Resolve(answering: "unix:///run/docker.sock").Kind);
            var none = Resolve();
            Assert.Equal(EngineKind.Process, none.Kind);
            Assert.False(none.IsExplicit);
        }

        [Fact]
        public void The_system_sockets_probed_are_the_ones_given()
        {
            var system = new SystemSockets(new[] { "/srv/p.sock" }, new[] { "/srv/d.sock" });
            Func<string, string> env = v => _env.TryGetValue(v, out var x) ? x : null;
            Assert.Equal("unix:///srv/p.sock", EngineResolver.DefaultSockets(EngineKind.Podman, env, system)[0]);
            Assert.DoesNotContain("unix:///run/docker.sock", EngineResolver.DefaultSockets(EngineKind.Docker, env, system));
            var t = EngineResolver.Resolve(EngineKind.Auto, null, env, s => s == "unix:///srv/d.sock", _ => null, system);
            Assert.Equal(EngineKind.Docker, t.Kind);
            Assert.Equal("unix:///srv/d.sock", t.Endpoint);
        }

        [Fact]
        public void Unknown_engine_names_and_endpoints_are_invalid_arguments()
        {
            _env["CONTAINERIZATION_ENGINE"] = "rkt";
            var e = Assert.Throws<DyadPortsException>(() => Resolve());
            Assert.Equal(ErrorIds.InvalidEngineEndpoint, e.ErrorId);
            Assert.Equal("rkt", e.Target);
            Assert.Throws<DyadPortsException>(() => EngineResolver.Normalize("ftp://x"));
        }
    }
}
