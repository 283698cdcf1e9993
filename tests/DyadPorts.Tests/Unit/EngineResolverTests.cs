using System.Collections.Generic;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Previews;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    public class EngineResolverTests
    {
        private static EngineTarget Resolve(EngineKind kind, string endpoint, Dictionary<string, string> env, params string[] answering) =>
            EngineResolver.Resolve(kind, endpoint, v => env.TryGetValue(v, out var x) ? x : null, s => System.Array.IndexOf(answering, s) >= 0);

        [Fact]
        public void Parameter_endpoint_wins_over_everything()
        {
            var t = Resolve(EngineKind.Auto, "/tmp/x.sock", new Dictionary<string, string> { ["DOCKER_HOST"] = "unix:///other.sock" });
            Assert.Equal("unix:///tmp/x.sock", t.Endpoint);
            Assert.True(t.IsExplicit);
        }

        [Fact]
        public void Docker_host_then_container_host_then_configured_engine()
        {
            Assert.Equal("unix:///d.sock", Resolve(EngineKind.Auto, null, new Dictionary<string, string> { ["DOCKER_HOST"] = "unix:///d.sock", ["CONTAINER_HOST"] = "unix:///p.sock" }).Endpoint);
            var podman = Resolve(EngineKind.Auto, null, new Dictionary<string, string> { ["CONTAINER_HOST"] = "unix:///p.sock", ["CONTAINERIZATION_ENGINE"] = "docker" });
            Assert.Equal(EngineKind.Podman, podman.Kind);
            var configured = Resolve(EngineKind.Auto, null, new Dictionary<string, string> { ["CONTAINERIZATION_ENGINE"] = "docker" }, "unix:///run/docker.sock");
            Assert.Equal(EngineKind.Docker, configured.Kind);
            Assert.Equal("unix:///run/docker.sock", configured.Endpoint);
            Assert.True(configured.IsExplicit);
        }

        [Fact]
        public void Containerization_disabled_means_the_process_engine()
        {
            var t = Resolve(EngineKind.Auto, null, new Dictionary<string, string> { ["CONTAINERIZATION_ENABLED"] = "false", ["CONTAINERIZATION_ENGINE"] = "podman" });
            Assert.Equal(EngineKind.Process, t.Kind);
            Assert.Null(t.Endpoint);
        }

        [Fact]
        public void Probing_prefers_podman_then_docker_and_falls_back_to_processes_without_being_explicit()
        {
            Assert.Equal(EngineKind.Podman, Resolve(EngineKind.Auto, null, new Dictionary<string, string>(), "unix:///run/podman/podman.sock", "unix:///run/docker.sock").Kind);
            Assert.Equal(EngineKind.Docker, Resolve(EngineKind.Auto, null, new Dictionary<string, string>(), "unix:///run/docker.sock").Kind);
            var none = Resolve(EngineKind.Auto, null, new Dictionary<string, string>());
            Assert.Equal(EngineKind.Process, none.Kind);
            Assert.False(none.IsExplicit);
        }

        [Fact]
        public void Unknown_engine_names_and_endpoints_are_invalid_arguments()
        {
            var e = Assert.Throws<DyadPortsException>(() => Resolve(EngineKind.Auto, null, new Dictionary<string, string> { ["CONTAINERIZATION_ENGINE"] = "rkt" }));
            Assert.Equal(ErrorIds.InvalidEngineEndpoint, e.ErrorId);
            Assert.Equal("rkt", e.Target);
            Assert.Throws<DyadPortsException>(() => EngineResolver.Normalize("ftp://x"));
        }

        [Theory]
        [InlineData("Error response from daemon: driver failed programming external connectivity on endpoint x: Bind for 0.0.0.0:32101 failed: port is already allocated", true)]
        [InlineData("cannot listen on the TCP port: listen tcp4 :32100: bind: address already in use", true)]
        [InlineData("something went wrong with the request: \"proxy already running\"", true)]
        [InlineData("Error starting userland proxy: listen tcp4 0.0.0.0:32102: bind: address already in use", true)]
        [InlineData("no such image", false)]
        public void Recognises_both_engines_port_conflict_texts(string message, bool conflict) =>
            Assert.Equal(conflict, new EngineRefusedException("unix:///x.sock", "start container x", System.Net.HttpStatusCode.InternalServerError, message, null).IsPortConflict);
    }
}
