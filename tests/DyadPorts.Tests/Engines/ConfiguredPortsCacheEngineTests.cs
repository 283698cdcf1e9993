using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using Docker.DotNet.Models;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Session;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>
    /// The configured-ports file (<see cref="ConfiguredPortsCache"/>, issue 18 item 4) on both real engines: a fresh client
    /// (a new process, as far as memory goes) with the file of an earlier one lists once and inspects none of the created
    /// containers the earlier one inspected, and sees the bindings the engine has; a removed container is pruned from the
    /// file; a session's allocation writes the file in its local folder. Other users' containers come and go on the
    /// engines meanwhile: a container the first snapshot did not list may cost the second one inspect, nothing else may.
    /// Ports 22300-22329.
    /// </summary>
    [Collection(EngineCollection.Name)]
    public sealed class ConfiguredPortsCacheEngineTests : IDisposable
    {
        private readonly TempState _temp = new TempState();
        private readonly EngineFixture _engines;
        private readonly List<(TestEngine Engine, string Id)> _created = new List<(TestEngine, string)>();

        public ConfiguredPortsCacheEngineTests(EngineFixture engines) => _engines = engines;

        public void Dispose()
        {
            foreach (var (engine, id) in _created) engine.Remove(id);
            _temp.Dispose();
        }

        private static int Port(string name, int offset) => 22300 + (name == "docker" ? 0 : 15) + offset;

        /// <summary>Three created (never started) containers publishing Port(0..2) (the second on 127.0.0.1 only), and one publishing nothing.</summary>
        private List<(string Id, string[] Expected)> CreateContainers(TestEngine engine, string name, string tag)
        {
            var made = new List<(string, string[])>();
            for (var i = 0; i < 3; i++)
            {
                var port = Port(name, i);
                var ip = i == 1 ? "127.0.0.1" : null;
                var id = engine.Run(TestRun.App($"bc-{tag}-{name}-{i}"), port, start: false, hostIp: ip);
                _created.Add((engine, id));
                made.Add((id, new[] { $"{ip ?? "0.0.0.0"}:{port}->{port}/tcp" }));
            }
            var bare = engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters
            {
                Name = TestRun.App($"bc-{tag}-{name}-none"),
                Image = engine.Image,
                Cmd = new List<string> { "sleep", "600" },
                Labels = new Dictionary<string, string> { [TestRun.Label] = TestRun.Id },
            }).GetAwaiter().GetResult().ID;
            _created.Add((engine, bare));
            made.Add((bare, Array.Empty<string>()));
            return made;
        }

        /// <summary>Each container is in the snapshot with exactly the bindings it was created with.</summary>
        private static void AssertSeenAsCreated(EngineSnapshot snapshot, IEnumerable<(string Id, string[] Expected)> containers)
        {
            foreach (var (id, expected) in containers)
            {
                var seen = snapshot.Containers.SingleOrDefault(c => c.Id == id);
                Assert.True(seen != null, $"container {id} is not in the snapshot");
                Assert.Equal(expected, seen.Ports.Select(p => p.ToString()).Distinct().OrderBy(p => p, StringComparer.Ordinal));
            }
        }

        [Theory, MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_fresh_client_with_the_file_lists_once_and_sees_the_bindings_the_engine_has(string name)
        {
            var engine = _engines.Get(name);
            var ours = CreateContainers(engine, name, "cache");
            var ported = ours.Take(3).Select(c => c.Id).ToList();
            var bare = ours[3].Id;
            var cache = new ConfiguredPortsCache(_temp.Directory, engine.Endpoint);

            var first = new ContainerEngine(engine.Endpoint, engine.Kind);
            var snapshot1 = first.Snapshot(cache, NullOperationLog.Instance, CancellationToken.None);
            AssertSeenAsCreated(snapshot1, ours);
            var stored = cache.Load(null);
            Assert.Contains(bare, stored.Keys); // no ports in the list on either engine: inspected once, then stored
            Assert.Empty(stored[bare]);
            if (name == "docker")
            {
                // dockerd lists no ports for created containers: the first client inspects each, and stores each.
                Assert.True(first.Calls >= 1 + ours.Count, $"the first snapshot made {first.Calls} call(s), fewer than 1 list + {ours.Count} inspects");
                Assert.All(ported, id => Assert.Contains(id, stored.Keys));
            }
            else
            {
                // podman lists created containers' ports: only containers without any are inspected.
                Assert.True(first.Calls - 1 <= snapshot1.Containers.Count(c => !c.IsRunning && c.Ports.Count == 0), $"podman: the first snapshot made {first.Calls} call(s)");
                Assert.All(ported, id => Assert.DoesNotContain(id, stored.Keys));
            }

            var second = new ContainerEngine(engine.Endpoint, engine.Kind); // a new process, as far as memory goes
            var snapshot2 = second.Snapshot(cache, NullOperationLog.Instance, CancellationToken.None);
            AssertSeenAsCreated(snapshot2, ours);
            var before = new HashSet<string>(snapshot1.Containers.Select(c => c.Id));
            var newcomers = snapshot2.Containers.Count(c => !c.IsRunning && !before.Contains(c.Id));
            Assert.True(second.Calls - 1 <= newcomers,
                $"the second client made {second.Calls} call(s): 1 list + {second.Calls - 1} inspect(s), with {newcomers} stopped container(s) the first did not list (exactly 1 call when nobody else created one)");

            engine.Remove(ported[0]);
            var third = new ContainerEngine(engine.Endpoint, engine.Kind);
            var snapshot3 = third.Snapshot(cache, NullOperationLog.Instance, CancellationToken.None);
            Assert.DoesNotContain(snapshot3.Containers, c => c.Id == ported[0]);
            AssertSeenAsCreated(snapshot3, ours.Skip(1));
            var pruned = cache.Load(null);
            Assert.DoesNotContain(ported[0], pruned.Keys);
            Assert.Contains(bare, pruned.Keys);
            Assert.All(pruned.Keys, id => Assert.Contains(snapshot3.Containers, c => c.Id == id)); // only listed ids are kept
        }

        [Theory, MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_sessions_allocation_keeps_the_file_in_its_local_folder(string name)
        {
            var engine = _engines.Get(name);
            var ours = CreateContainers(engine, name, "session");
            var env = new Dictionary<string, string>
            {
                ["DYAD_PORTS_STATE"] = _temp.StatePath,
                ["DYAD_PORT_RANGE"] = string.Create(CultureInfo.InvariantCulture, $"{Port(name, 5)}-{Port(name, 7)}"),
                ["HOME"] = _temp.Directory,
                [DyadSettings.EngineFeedVariable] = "off",
            };
            using var session = new DyadSession(n => env.TryGetValue(n, out var v) ? v : null);
            var allocator = session.Allocator(engine.Kind, engine.Endpoint, NullOperationLog.Instance, CancellationToken.None);
            allocator.Request(TestRun.App("bc-session"), session.Settings().Range, false, NullOperationLog.Instance, CancellationToken.None);

            var file = Path.Combine(_temp.Directory, ConfiguredPortsCache.FileName(engine.Endpoint));
            Assert.True(File.Exists(file), $"no file {file} after an allocation");
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            var stored = new ConfiguredPortsCache(_temp.Directory, engine.Endpoint).Load(null);
            var expected = name == "docker" ? ours : ours.Skip(3); // podman lists the ports of the others
            foreach (var (id, ports) in expected)
            {
                Assert.True(stored.TryGetValue(id, out var seen), $"container {id} is not in {file}");
                Assert.Equal(ports, seen.Select(p => p.ToString()).OrderBy(p => p, StringComparer.Ordinal));
            }
        }
    }
}
