using System;
using System.IO;
using DyadPorts.Core.Engines;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary><see cref="EngineHost.SameEngine"/>: one engine under two spellings, in a temp folder with a linked folder (as /var/run -> /run).</summary>
    public sealed class EngineHostSameEngineTests : IDisposable
    {
        private readonly string _root = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "dpt-samehost-" + Guid.NewGuid().ToString("N"))).FullName;

        public void Dispose() => Directory.Delete(_root, true);

        [Fact]
        public void A_socket_reached_through_a_linked_folder_is_the_same_engine()
        {
            var run = Directory.CreateDirectory(Path.Combine(_root, "run")).FullName;
            File.WriteAllText(Path.Combine(run, "docker.sock"), "");
            Directory.CreateDirectory(Path.Combine(_root, "var"));
            Directory.CreateSymbolicLink(Path.Combine(_root, "var", "run"), "../run");

            var direct = "unix://" + Path.Combine(run, "docker.sock");
            var linked = "unix://" + Path.Combine(_root, "var", "run", "docker.sock");
            Assert.True(EngineHost.SameEngine(direct, linked));
            Assert.True(EngineHost.SameEngine(linked, Path.Combine(run, "docker.sock"))); // a bare path is a unix socket
            Assert.Equal(EngineHost.Canonical(direct), EngineHost.Canonical(linked));
            Assert.False(EngineHost.SameEngine(direct, "unix://" + Path.Combine(run, "podman.sock")));
        }

        [Fact]
        public void A_linked_socket_file_is_the_engine_it_points_at()
        {
            File.WriteAllText(Path.Combine(_root, "real.sock"), "");
            File.CreateSymbolicLink(Path.Combine(_root, "alias.sock"), Path.Combine(_root, "real.sock"));
            Assert.True(EngineHost.SameEngine("unix://" + Path.Combine(_root, "alias.sock"), "unix://" + Path.Combine(_root, "real.sock")));
        }

        [Theory]
        [InlineData("tcp://HostB:2376", "tcp://hostb:2376", true)]
        [InlineData("tcp://hostb:2376", "tcp://hostb:2377", false)]
        [InlineData("tcp://hostb", "tcp://hostb:2375", true)]
        [InlineData("tcp://hostb:2376", "tcp://hostc:2376", false)]
        [InlineData("npipe://./pipe/docker_engine", "npipe://./pipe/DOCKER_ENGINE", true)]
        [InlineData("unix:///no/such/dir/a.sock", "unix:///no/such/dir/b.sock", false)]
        [InlineData(null, null, true)]
        [InlineData("unix:///x.sock", null, false)]
        public void Endpoints_compare_by_their_canonical_form(string a, string b, bool same) =>
            Assert.Equal(same, EngineHost.SameEngine(a, b));
    }
}
