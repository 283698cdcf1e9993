using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using DyadPorts.Core.Engines;
using Xunit;

namespace DyadPorts.Tests.Support
{
    /// <summary>
    /// The engine views of the tests running with the feed on (<see cref="EngineCase.Feed"/>). A test that changes
    /// containers through a client of its own (<see cref="TestEngine"/>: another client, as another operator's would be)
    /// then waits here until every live view of that endpoint shows this run's containers as the engine lists them, and
    /// fails if one does not within <see cref="Bound"/>: the freshness the view promises, checked after every change.
    /// </summary>
    public static class ViewSettler
    {
        /// <summary>The view's freshness bound, with room for a loaded 2-core machine.</summary>
        public static readonly TimeSpan Bound = ViewTiming.FreshnessBound * 3;

        private static readonly List<EngineViews> Registered = new List<EngineViews>();

        public static void Register(EngineViews views)
        {
            lock (Registered) Registered.Add(views);
        }

        public static void Unregister(EngineViews views)
        {
            lock (Registered) Registered.Remove(views);
        }

        /// <summary>Reads <paramref name="client"/>'s endpoint through <paramref name="views"/> until its view is live (the second read starts it).</summary>
        public static void MakeLive(EngineViews views, ContainerEngine client, EngineKind kind)
        {
            ArgumentNullException.ThrowIfNull(views);
            ArgumentNullException.ThrowIfNull(client);
            var clock = Stopwatch.StartNew();
            while (views.Read(client, kind, default) == null)
            {
                if (clock.Elapsed > TimeSpan.FromSeconds(15)) Assert.Fail($"The engine view of {client.Endpoint} is not live after {clock.Elapsed.TotalSeconds:0.0} s.");
                Thread.Sleep(20);
            }
        }

        /// <summary>
        /// Waits until every view of <paramref name="engine"/>'s endpoint agrees with the engine's own list about this run's
        /// containers, and fails if one still answers something else <see cref="Bound"/> after the change. A view that does
        /// not answer then (behind: an event or a new container's inspect older than its bound; or not live) keeps the
        /// promise too, since its callers list: that passes, and is counted in <see cref="Refusals"/>.
        /// </summary>
        public static void Settle(TestEngine engine)
        {
            ArgumentNullException.ThrowIfNull(engine);
            List<(EngineViews Views, EngineView View)> views;
            lock (Registered) views = Registered.Select(v => (v, v.For(engine.Endpoint))).Where(v => v.Item2 != null).ToList();
            if (views.Count == 0) return;
            string Truth() => Ours(engine.All().Where(TestEngine.IsThisRuns).Select(c => (c.ID, string.Equals(c.State, "running", StringComparison.OrdinalIgnoreCase))));
            foreach (var (owner, view) in views)
            {
                var clock = Stopwatch.StartNew();
                var truth = Truth();
                var listed = clock.Elapsed;
                string seen = null;
                while (true)
                {
                    // The engine's own list again now and then: a change the test made may still be settling there too.
                    if (clock.Elapsed - listed > TimeSpan.FromMilliseconds(200)) { truth = Truth(); listed = clock.Elapsed; }
                    var snapshot = view.TryRead(default);
                    if (snapshot != null)
                    {
                        seen = Ours(snapshot.Containers.Where(c => TestEngine.IsThisRuns(c.Labels)).Select(c => (c.Id, c.IsRunning)));
                        if (seen == truth) break;
                    }
                    if (clock.Elapsed > Bound)
                    {
                        if (snapshot == null)
                        {
                            Interlocked.Increment(ref _refusals);
                            break;
                        }
                        Assert.Fail($"The engine view of {engine.Endpoint} still answers without this run's containers as the engine has them {Bound.TotalMilliseconds} ms after a change " +
                                    $"(its freshness bound is {ViewTiming.FreshnessBound.TotalMilliseconds} ms): engine [{truth}], view [{seen}]; the view has listed {view.Lists} time(s), " +
                                    $"it is {(ReferenceEquals(owner, views[0].Views) ? "the first" : "another")} of {views.Count} registered view(s) of the endpoint.");
                    }
                    Thread.Sleep(10);
                }
            }
        }

        private static long _refusals;

        /// <summary>How many times a view did not answer when <see cref="Settle"/>'s bound ran out (it passed, since its callers list).</summary>
        public static long Refusals => Interlocked.Read(ref _refusals);

        private static string Ours(IEnumerable<(string Id, bool Running)> containers) =>
            string.Join(", ", containers.OrderBy(c => c.Id, StringComparer.Ordinal).Select(c => c.Id[..12] + (c.Running ? ":running" : ":stopped")));
    }
}
