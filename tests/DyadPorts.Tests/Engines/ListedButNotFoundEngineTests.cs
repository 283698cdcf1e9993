using System;
using System.Linq;
using System.Threading;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>
    /// dockerd lists a container it is still creating a few milliseconds before an inspect finds it (its record is written
    /// before the container is registered), and a created container's bindings come only from an inspect. A list whose
    /// inspect of such a container is answered "no such container" (here by a proxy) tries again; if none finds it, the
    /// container is left out and nothing is remembered of it, so the next list, and an engine view's create event, see its
    /// bindings. Taken as "no ports" and remembered, a view held the container without them for good, and handed out the
    /// port it bound (a full CI run). Podman 4.3 lists a created container's bindings itself: there the list asks for no
    /// inspect, and has them. Ports 23051-23054.
    /// </summary>
    [Collection(EngineCollection.Name)]
    public sealed class ListedButNotFoundEngineTests
    {
        private readonly EngineFixture _engines;

        public ListedButNotFoundEngineTests(EngineFixture engines) => _engines = engines;

        private static bool InspectOf(string id, string line) => EngineRequestLines.Inspect.IsMatch(line) && line.Contains(id, StringComparison.Ordinal);

        /// <summary>How many inspects of a created container a list asks for, of <paramref name="tries"/> answered not found: none on podman, whose list carries the bindings.</summary>
        private static int Inspected(TestEngine engine, int tries) => engine.Kind == EngineKind.Podman ? 0 : tries;

        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_list_tries_again_when_an_inspect_does_not_find_a_container_it_showed(string name)
        {
            var engine = _engines.Get(name);
            var id = engine.Run(TestRun.App("listed-not-found"), 23051, start: false);
            try
            {
                using var proxy = new HoldingEngineProxy(engine.Endpoint);
                using var client = new ContainerEngine(proxy.Endpoint, engine.Kind);
                proxy.AnswerNotFound(line => InspectOf(id, line), 2);
                var listed = client.Snapshot(null, NullOperationLog.Instance, CancellationToken.None);
                Assert.Equal(Inspected(engine, 2), proxy.NotFoundAnswered);
                Assert.Contains(listed.Containers, c => c.Id == id && c.Ports.Any(p => p.HostPort == 23051));
            }
            finally
            {
                engine.Remove(id);
            }
        }

        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_container_no_inspect_finds_is_left_out_and_the_next_list_has_its_ports(string name)
        {
            var engine = _engines.Get(name);
            var id = engine.Run(TestRun.App("listed-never-found"), 23052, start: false);
            try
            {
                using var proxy = new HoldingEngineProxy(engine.Endpoint);
                using var client = new ContainerEngine(proxy.Endpoint, engine.Kind);
                var tries = ContainerEngine.ListedButNotFound.Length + 1;
                proxy.AnswerNotFound(line => InspectOf(id, line), tries);
                var first = client.Snapshot(null, NullOperationLog.Instance, CancellationToken.None);
                Assert.Equal(Inspected(engine, tries), proxy.NotFoundAnswered);
                if (engine.Kind == EngineKind.Docker) Assert.DoesNotContain(first.Containers, c => c.Id == id);
                var next = client.Snapshot(null, NullOperationLog.Instance, CancellationToken.None);
                Assert.Contains(next.Containers, c => c.Id == id && c.Ports.Any(p => p.HostPort == 23052));
            }
            finally
            {
                engine.Remove(id);
            }
        }

        /// <summary>
        /// A container no inspect finds still holds its name (a create under way, which a failed start's clean-up must
        /// find and remove): the lookup by name gives it, with its labels and without bindings, and remembers nothing, so
        /// the next list has its ports.
        /// </summary>
        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_container_no_inspect_finds_is_still_found_by_name_and_nothing_is_remembered(string name)
        {
            var engine = _engines.Get(name);
            var app = TestRun.App("named-never-found");
            var id = engine.Run(app, 23054, start: false);
            try
            {
                using var proxy = new HoldingEngineProxy(engine.Endpoint);
                using var client = new ContainerEngine(proxy.Endpoint, engine.Kind);
                var tries = ContainerEngine.ListedButNotFound.Length + 1;
                proxy.AnswerNotFound(line => InspectOf(id, line), tries);
                var found = client.FindByName(app, CancellationToken.None);
                Assert.Equal(Inspected(engine, tries), proxy.NotFoundAnswered);
                Assert.NotNull(found);
                Assert.Equal(id, found.Id);
                Assert.True(TestEngine.IsThisRuns(found.Labels), "the lookup by name lost the container's labels");
                var next = client.Snapshot(null, NullOperationLog.Instance, CancellationToken.None);
                Assert.Contains(next.Containers, c => c.Id == id && c.Ports.Any(p => p.HostPort == 23054));
            }
            finally
            {
                engine.Remove(id);
            }
        }

        /// <summary>
        /// The view's list cannot find a container made just before it connected; its create, replayed by the stream's
        /// since=, then brings it in with its bindings. Kept from the list without them, the create (of a container the
        /// view held already) changed nothing, and the view never had its port.
        /// </summary>
        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_view_whose_list_could_not_inspect_a_container_has_its_ports_from_its_create(string name)
        {
            var engine = _engines.Get(name);
            var id = engine.Run(TestRun.App("view-listed-not-found"), 23053, start: false);
            try
            {
                var tries = ContainerEngine.ListedButNotFound.Length + 1;
                using var through = new ProxiedView(engine, proxy => proxy.AnswerNotFound(line => InspectOf(id, line), tries));
                var shown = through.WaitFor(ViewSettler.Bound, s => s.Containers.Any(c => c.Id == id && c.Ports.Any(p => p.HostPort == 23053)));
                Assert.True(through.Proxy.NotFoundAnswered == Inspected(engine, tries), $"{through.Proxy.NotFoundAnswered} of {tries} inspects were answered not found: the test would prove nothing");
                var had = through.View.TryRead(CancellationToken.None)?.Containers.FirstOrDefault(c => c.Id == id);
                Assert.True(shown <= ViewSettler.Bound, $"the view does not have the container's port {shown.TotalSeconds:0.0} s after going live; it has " +
                    (had == null ? "no such container" : $"it with ports [{string.Join(",", had.Ports.Select(p => p.HostPort))}]"));
            }
            finally
            {
                engine.Remove(id);
            }
        }
    }
}
