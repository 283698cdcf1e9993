using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
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
    /// inspect, and has them. Ports 23051-23057.
    /// </summary>
    [Collection(EngineCollection.Name)]
    public sealed class ListedButNotFoundEngineTests
    {
        private readonly EngineFixture _engines;

        public ListedButNotFoundEngineTests(EngineFixture engines) => _engines = engines;

        private static bool InspectOf(string id, string line) => EngineRequestLines.Inspect.IsMatch(line) && line.Contains(id, StringComparison.Ordinal);

        /// <summary>How many inspects of a created container a list asks for, of <paramref name="tries"/> answered not found: none on podman, whose list carries the bindings.</summary>
        private static int Inspected(TestEngine engine, int tries) => engine.Kind == EngineKind.Podman ? 0 : tries;

        /// <summary>Every try a list makes of a container no inspect finds: the first, and one after each wait.</summary>
        private static int AllTries => ContainerListing.ListedButNotFound.Length + 1;

        /// <summary>
        /// Makes the created containers (<paramref name="ports"/>, one each, labelled for <paramref name="app"/>-i), then
        /// runs <paramref name="test"/> with them and a client that reaches the engine through a proxy; removes them after.
        /// </summary>
        private void WithCreated(string name, string app, int[] ports, Action<TestEngine, IReadOnlyList<string>, HoldingEngineProxy, ContainerEngine> test)
        {
            var engine = _engines.Get(name);
            var made = new List<string>();
            try
            {
                for (var i = 0; i < ports.Length; i++) made.Add(engine.Run(TestRun.App(ports.Length == 1 ? app : $"{app}-{i}"), ports[i], start: false));
                using var proxy = new HoldingEngineProxy(engine.Endpoint);
                using var client = new ContainerEngine(proxy.Endpoint, engine.Kind);
                test(engine, made, proxy, client);
            }
            finally
            {
                foreach (var id in made) engine.Remove(id);
            }
        }

        private static EngineSnapshot List(ContainerEngine client) => client.Snapshot(null, NullOperationLog.Instance, CancellationToken.None);

        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_list_tries_again_when_an_inspect_does_not_find_a_container_it_showed(string name) =>
            WithCreated(name, "listed-not-found", new[] { 23051 }, (engine, made, proxy, client) =>
            {
                proxy.AnswerNotFound(line => InspectOf(made[0], line), 2);
                var listed = List(client);
                Assert.Equal(Inspected(engine, 2), proxy.NotFoundAnswered);
                Assert.Contains(listed.Containers, c => c.Id == made[0] && c.Ports.Any(p => p.HostPort == 23051));
            });

        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_container_no_inspect_finds_is_left_out_and_the_next_list_has_its_ports(string name) =>
            WithCreated(name, "listed-never-found", new[] { 23052 }, (engine, made, proxy, client) =>
            {
                proxy.AnswerNotFound(line => InspectOf(made[0], line), AllTries);
                var first = List(client);
                Assert.Equal(Inspected(engine, AllTries), proxy.NotFoundAnswered);
                if (engine.Kind == EngineKind.Docker) Assert.DoesNotContain(first.Containers, c => c.Id == made[0]);
                var next = List(client);
                Assert.Contains(next.Containers, c => c.Id == made[0] && c.Ports.Any(p => p.HostPort == 23052));
            });

        /// <summary>
        /// A container no inspect finds still holds its name (a create under way, which a failed start's clean-up must
        /// find and remove): the lookup by name gives it, with its labels and without bindings, and remembers nothing, so
        /// the next list has its ports.
        /// </summary>
        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_container_no_inspect_finds_is_still_found_by_name_and_nothing_is_remembered(string name) =>
            WithCreated(name, "named-never-found", new[] { 23054 }, (engine, made, proxy, client) =>
            {
                proxy.AnswerNotFound(line => InspectOf(made[0], line), AllTries);
                var found = client.FindByName(TestRun.App("named-never-found"), CancellationToken.None);
                Assert.Equal(Inspected(engine, AllTries), proxy.NotFoundAnswered);
                Assert.NotNull(found);
                Assert.Equal(made[0], found.Id);
                Assert.True(TestEngine.IsThisRuns(found.Labels), "the lookup by name lost the container's labels");
                var next = List(client);
                Assert.Contains(next.Containers, c => c.Id == made[0] && c.Ports.Any(p => p.HostPort == 23054));
            });

        /// <summary>
        /// Containers no inspect finds are asked again together, round by round, not one after another: a list waits the
        /// sum of <see cref="ContainerListing.ListedButNotFound"/> once, however many it could not find (a container an engine
        /// keeps listing and can never inspect would otherwise cost every list 150 ms, each).
        /// </summary>
        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void Containers_no_inspect_finds_are_asked_again_together(string name) =>
            WithCreated(name, "listed-never-found-together", new[] { 23055, 23056 }, (engine, made, proxy, client) =>
            {
                proxy.AnswerNotFound(line => InspectOf(made[0], line) || InspectOf(made[1], line), 2 * AllTries);
                var listed = List(client);
                Assert.Equal(Inspected(engine, 2 * AllTries), proxy.NotFoundAnswered);
                if (engine.Kind == EngineKind.Podman) return;
                Assert.DoesNotContain(listed.Containers, c => made.Contains(c.Id));
                var requests = proxy.Requests;
                int Try(string id, int n) => requests.Select((line, i) => (line, i)).Where(r => InspectOf(id, r.line)).Select(r => r.i).ElementAt(n);
                // Every container's first try comes before either's second, and so on: one round after another.
                for (var round = 1; round < AllTries; round++)
                {
                    Assert.True(Try(made[0], round) > Try(made[1], round - 1) && Try(made[1], round) > Try(made[0], round - 1),
                        $"the tries were not made round by round:\n{string.Join("\n", requests.Where(l => EngineRequestLines.Inspect.IsMatch(l)))}");
                }
            });

        /// <summary>
        /// A list of many containers it has never seen (a one-shot process on docker, whose list has no bindings for created
        /// ones) inspects them <see cref="ContainerListing.InspectsAtOnce"/> at a time: neither one after another nor all at
        /// once. Every answer is held by the proxy once the engine has given it, so the inspects pile up as on a slow engine.
        /// </summary>
        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_list_inspects_the_containers_it_has_not_seen_a_few_at_a_time(string name) =>
            WithCreated(name, "listed-many", Enumerable.Repeat(23057, 3 * ContainerListing.InspectsAtOnce).ToArray(), (engine, made, proxy, client) =>
            {
                proxy.FrameAnswers(); // before the client's first call opens a connection
                proxy.DelayAnswers(EngineRequestLines.Inspect.IsMatch);
                var listing = Task.Run(() => List(client));
                var clock = Stopwatch.StartNew();
                while (proxy.DelayedAnswers < ContainerListing.InspectsAtOnce && !listing.IsCompleted && clock.Elapsed < TimeSpan.FromSeconds(15)) Thread.Sleep(20);
                Thread.Sleep(300); // room for more to pile up, if anything let them
                var held = proxy.DelayedAnswers;
                proxy.ReleaseAnswers();
                Assert.True(listing.Wait(TimeSpan.FromSeconds(30)), "the list did not end once the answers were let through");
                if (engine.Kind == EngineKind.Podman)
                {
                    // Podman lists a created container's bindings: none of these is inspected (others on the engine may be).
                    Assert.DoesNotContain(proxy.Requests, line => made.Any(id => InspectOf(id, line)));
                }
                else
                {
                    Assert.Equal(ContainerListing.InspectsAtOnce, held);
                }
                Assert.All(made, id => Assert.Contains(listing.Result.Containers, c => c.Id == id && c.Ports.Any(p => p.HostPort == 23057)));
            });

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
                using var through = new ProxiedView(engine, proxy => proxy.AnswerNotFound(line => InspectOf(id, line), AllTries));
                var shown = through.WaitFor(ViewSettler.Bound, s => s.Containers.Any(c => c.Id == id && c.Ports.Any(p => p.HostPort == 23053)));
                Assert.True(through.Proxy.NotFoundAnswered == Inspected(engine, AllTries), $"{through.Proxy.NotFoundAnswered} of {AllTries} inspects were answered not found: the test would prove nothing");
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
