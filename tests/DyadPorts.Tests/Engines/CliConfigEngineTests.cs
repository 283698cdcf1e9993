using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Session;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>
    /// The podman installed here (4.3.1) writes a connection for real; DyadPorts then finds the engine through it.
    /// podman runs with a temporary HOME, XDG_CONFIG_HOME and CONTAINERS_CONF: as root, `podman system connection add`
    /// would otherwise rewrite /etc/containers/containers.conf, which belongs to the machine's user. Its hash is checked.
    /// </summary>
    [Collection(EngineCollection.Name)]
    public sealed class CliConfigEngineTests : IDisposable
    {
        private const string SystemConf = "/etc/containers/containers.conf";
        private readonly string _home = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "dpt12-podman-" + Guid.NewGuid().ToString("N"))).FullName;
        private readonly TempState _temp = new TempState();

        public void Dispose()
        {
            Directory.Delete(_home, true);
            _temp.Dispose();
        }

        private Dictionary<string, string> Env() => new Dictionary<string, string>
        {
            ["HOME"] = _home,
            ["XDG_CONFIG_HOME"] = Path.Combine(_home, ".config"),
            ["DOCKER_CONFIG"] = Path.Combine(_home, ".docker"),
            ["CONTAINERS_CONF"] = Path.Combine(_home, "containers.conf"),
            ["PODMAN_CONNECTIONS_CONF"] = Path.Combine(_home, "podman-connections.json"),
            ["DYAD_PORTS_STATE"] = _temp.StatePath,
        };

        private static string Hash(string path) => File.Exists(path) ? Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))) : "absent";

        /// <summary>The real podman CLI, without CONTAINER_HOST (with it, podman runs as a remote client).</summary>
        private static void Podman(Dictionary<string, string> env, params string[] args) =>
            Tools.Run(new Dictionary<string, string>(env) { ["CONTAINER_HOST"] = null, ["CONTAINER_CONNECTION"] = null }, false, new[] { "podman" }.Concat(args).ToArray());

        [Fact]
        public void A_connection_added_by_the_real_podman_is_the_engine_dyadports_finds_and_Verbose_names_the_rule()
        {
            var podman = TestEngine.Get("podman");
            var before = Hash(SystemConf);
            var env = Env();
            File.WriteAllText(env["CONTAINERS_CONF"], "[engine]\nruntime = \"runc\"\n"); // podman needs the file to exist
            var name = "dpt12-" + TestRun.Prefix.TrimEnd('-');
            try
            {
                Podman(env, "system", "connection", "add", "--default", name, podman.Endpoint);
                Assert.Contains($"active_service = \"{name}\"", File.ReadAllText(env["CONTAINERS_CONF"]));

                var session = new DyadSession(v => env.TryGetValue(v, out var x) ? x : null);
                var target = session.Resolve(EngineKind.Auto, null);
                Assert.Equal(EngineKind.Podman, target.Kind);
                Assert.Equal(podman.Endpoint, target.Endpoint);

                var log = new RecordingLog();
                var allocator = session.Allocator(EngineKind.Auto, null, log, default);
                Assert.Equal(EngineKind.Podman, allocator.Kind);
                Assert.Contains(log.Verbose, v => v.StartsWith($"Engine: Podman at {podman.Endpoint} (podman connection '{name}'", StringComparison.Ordinal));

                // The family decides first: CONTAINERIZATION_ENGINE=docker passes podman's connection by.
                env["CONTAINERIZATION_ENGINE"] = "docker";
                Assert.Equal(EngineKind.Docker, session.Resolve(EngineKind.Auto, null).Kind);
            }
            finally
            {
                Assert.Equal(before, Hash(SystemConf));
            }
        }
    }
}
