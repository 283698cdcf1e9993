using System;
using System.Collections.Generic;
using System.Threading;
using DyadPorts.Core.Engines;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>
    /// <see cref="EngineResolution"/> and <see cref="EngineFingerprint"/>: answers kept while nothing the rules read changes,
    /// pings and machine inspection counted through fakes (no file, socket or process is touched: stamps are a dictionary).
    /// </summary>
    public sealed class EngineResolutionTests
    {
        private const string Home = "/home/fp";
        private static readonly SystemSockets System = new SystemSockets(new[] { "/srv/podman.sock" }, new[] { "/srv/docker.sock" });
        private readonly Dictionary<string, string> _env = new Dictionary<string, string> { ["HOME"] = Home, ["PATH"] = "/usr/bin" };
        private readonly Dictionary<string, string> _stamps = new Dictionary<string, string>();
        private readonly List<string> _pinged = new List<string>();
        private readonly List<string> _inspected = new List<string>();
        private readonly HashSet<string> _answering = new HashSet<string>();

        private string Env(string name) => _env.TryGetValue(name, out var v) ? v : null;
        private string Stamp(string path) => _stamps.TryGetValue(path, out var s) ? s : EngineFingerprint.Missing;

        private EngineResolution NewResolution(Func<string, CancellationToken, bool> answers = null) =>
            new EngineResolution(Env, answers ?? ((e, ct) => { _pinged.Add(e); return _answering.Contains(e); }), (m, ct) => { _inspected.Add(m); return null; }, Stamp, System);

        private string Fingerprint() => EngineFingerprint.Of(Env, Stamp, System);

        [Fact]
        public void The_fingerprint_changes_with_each_variable_and_each_file_it_covers_and_not_with_others()
        {
            var before = Fingerprint();
            _env["UNRELATED"] = "x";
            Assert.Equal(before, Fingerprint());
            foreach (var name in new[] { "DOCKER_HOST", "CONTAINER_HOST", "CONTAINERIZATION_ENGINE", "DOCKER_CONTEXT", "DOCKER_CONFIG", "CONTAINERS_CONF", "XDG_RUNTIME_DIR", "PATH" })
            {
                var was = Fingerprint();
                _env[name] = "/changed/" + name;
                Assert.NotEqual(was, Fingerprint());
            }
            foreach (var file in new[] { "/srv/docker.sock", "/srv/podman.sock", _env["DOCKER_CONFIG"] + "/config.json", _env["CONTAINERS_CONF"] })
            {
                var was = Fingerprint();
                _stamps[file] = "1/0";
                Assert.NotEqual(was, Fingerprint());
            }
            Assert.Contains(Home + "/.docker/run/docker.sock", EngineFingerprint.Files(Env, System));
        }

        [Fact]
        public void A_second_resolution_is_answered_from_the_cache_until_the_fingerprint_changes()
        {
            _answering.Add("unix:///srv/docker.sock");
            var resolution = NewResolution();
            var first = resolution.Resolve(EngineKind.Auto, null, ResolutionMode.Full, CancellationToken.None);
            Assert.Equal("unix:///srv/docker.sock", first.Endpoint);
            var pings = _pinged.Count;
            Assert.True(pings >= 2); // podman's sockets first, then docker's

            Assert.Same(first, resolution.Resolve(EngineKind.Auto, null, ResolutionMode.Full, CancellationToken.None));
            Assert.Equal(pings, _pinged.Count);
            Assert.Equal(1, resolution.Hits);

            _stamps["/srv/podman.sock"] = "5/0"; // podman started: its socket is new
            _answering.Add("unix:///srv/podman.sock");
            Assert.Equal("unix:///srv/podman.sock", resolution.Resolve(EngineKind.Auto, null, ResolutionMode.Full, CancellationToken.None).Endpoint);
            Assert.True(_pinged.Count > pings);
        }

        [Fact]
        public void Forget_drops_the_answers_that_name_the_endpoint()
        {
            _answering.Add("unix:///srv/docker.sock");
            var resolution = NewResolution();
            resolution.Resolve(EngineKind.Auto, null, ResolutionMode.Full, CancellationToken.None);
            var pings = _pinged.Count;
            resolution.Forget("unix:///other.sock");
            resolution.Resolve(EngineKind.Auto, null, ResolutionMode.Full, CancellationToken.None);
            Assert.Equal(pings, _pinged.Count);
            resolution.Forget("unix:///srv/docker.sock");
            resolution.Resolve(EngineKind.Auto, null, ResolutionMode.Full, CancellationToken.None);
            Assert.True(_pinged.Count > pings);
        }

        [Fact]
        public void A_cancelled_resolution_throws_and_is_not_kept()
        {
            using (var cts = new CancellationTokenSource())
            {
                var resolution = NewResolution((e, ct) => { cts.Cancel(); return false; }); // the deadline passes during the first ping
                Assert.ThrowsAny<OperationCanceledException>(() => resolution.Resolve(EngineKind.Auto, null, ResolutionMode.Full, cts.Token));
                var again = NewResolution();
                Assert.Equal(EngineKind.Process, again.Resolve(EngineKind.Auto, null, ResolutionMode.Full, CancellationToken.None).Kind);
                Assert.Equal(0, again.Hits);
            }
        }

        [Fact]
        public void Completion_uses_a_full_resolutions_answer_but_a_full_resolution_does_not_use_completions()
        {
            _answering.Add("unix:///srv/docker.sock");
            var resolution = NewResolution();
            resolution.Resolve(EngineKind.Auto, null, ResolutionMode.NoProcesses, CancellationToken.None);
            resolution.Resolve(EngineKind.Auto, null, ResolutionMode.Full, CancellationToken.None);
            Assert.Equal(0, resolution.Hits);
            resolution.Resolve(EngineKind.Auto, null, ResolutionMode.NoProcesses, CancellationToken.None);
            Assert.Equal(1, resolution.Hits);
        }
    }
}
