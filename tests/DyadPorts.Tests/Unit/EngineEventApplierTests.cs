using System;
using System.Collections.Generic;
using System.Linq;
using Docker.DotNet.Models;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Session;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary>
    /// <see cref="ContainerEvent"/> and <see cref="EngineEventApplier"/>: the events as dockerd 20.10 and podman 4.3.1's
    /// compat /events sent them on this machine (fields copied from the real streams), applied to a view's map; the
    /// engine is a dictionary here, and every inspect is counted.
    /// </summary>
    public sealed class EngineEventApplierTests
    {
        private const string Id = "c6fdefcf76dc68a3cbf84fab3b7e0d07d9178078045079d8b5e6ce7285e1a74e";
        private readonly Dictionary<string, ContainerSummary> _engine = new Dictionary<string, ContainerSummary>();
        private readonly Dictionary<string, ContainerSummary> _view = new Dictionary<string, ContainerSummary>();
        private int _inspects;

        private ContainerSummary Inspect(string id)
        {
            _inspects++;
            return _engine.TryGetValue(id, out var c) ? c : null;
        }

        private bool Apply(Message message) => EngineEventApplier.Apply(_view, ContainerEvent.From(message), Inspect);

        private static ContainerSummary Container(string state, int port, string name = "feedprobe-d") => new ContainerSummary
        {
            Id = Id, Name = name, State = state,
            Labels = new Dictionary<string, string> { ["dyadports.test-run"] = "probe" },
            Ports = new[] { new PublishedPort(port, null, 80, "tcp") },
        };

        // dockerd 20.10.24: name without a slash, rename carries oldName with one, destroy, details after a colon.
        private static Message Docker(string action, string name = "feedprobe-d", string oldName = null)
        {
            var attributes = new Dictionary<string, string> { ["image"] = "localhost/dyadports-test:2e481c2ae82c", ["name"] = name, ["dyadports.test-run"] = "probe" };
            if (oldName != null) attributes["oldName"] = oldName;
            return new Message { Status = action, ID = Id, From = "localhost/dyadports-test:2e481c2ae82c", Type = "container", Action = action, Actor = new Actor { ID = Id, Attributes = attributes }, Scope = "local", TimeNano = 1796012942519693412 };
        }

        // podman 4.3.1 compat: containerExitCode and podId in every event's attributes, "remove" for destroy, init and cleanup.
        private static Message Podman(string action, string name = "feedprobe-d") => new Message
        {
            Status = action, ID = Id, From = "localhost/dyadports-test:2e481c2ae82c", Type = "container", Action = action, Scope = "local", TimeNano = 1796012958193828193,
            Actor = new Actor { ID = Id, Attributes = new Dictionary<string, string> { ["containerExitCode"] = "0", ["image"] = "localhost/dyadports-test:2e481c2ae82c", ["name"] = name, ["podId"] = "" } },
        };

        public static TheoryData<string> Engines => new TheoryData<string> { "docker", "podman" };
        private static Message Event(string engine, string action, string name = "feedprobe-d") => engine == "docker" ? Docker(action, name) : Podman(action, name);
        private static string Destroy(string engine) => engine == "docker" ? "destroy" : "remove";

        [Theory, MemberData(nameof(Engines))]
        public void Create_inspects_once_and_holds_the_configured_binding(string engine)
        {
            _engine[Id] = Container("created", 28101);
            Assert.True(Apply(Event(engine, "create")));
            Assert.Equal(1, _inspects);
            Assert.Equal(new[] { 28101 }, _view[Id].TcpHostPorts);
            Assert.Equal("created", _view[Id].State);
        }

        [Theory, MemberData(nameof(Engines))]
        public void Destroy_and_podmans_remove_free_the_port(string engine)
        {
            _view[Id] = Container("exited", 28102);
            Assert.True(Apply(Event(engine, Destroy(engine))));
            Assert.Empty(_view);
            Assert.Equal(0, _inspects);
        }

        [Theory, MemberData(nameof(Engines))]
        public void Start_and_die_set_what_the_engine_says_now(string engine)
        {
            _view[Id] = Container("created", 28103);
            _engine[Id] = Container("running", 28103);
            Apply(Event(engine, "start"));
            Assert.True(_view[Id].IsRunning);
            _engine[Id] = Container("exited", 28103);
            Apply(Event(engine, "die"));
            Assert.Equal("exited", _view[Id].State);
            Assert.Equal(new[] { 28103 }, _view[Id].TcpHostPorts);
        }

        [Theory, MemberData(nameof(Engines))]
        public void Rename_is_followed_without_a_call(string engine)
        {
            _view[Id] = Container("created", 28104);
            var before = _view[Id];
            Assert.True(Apply(engine == "docker" ? Docker("rename", "feedprobe-d2", "/feedprobe-d") : Podman("rename", "feedprobe-d2")));
            Assert.Equal("feedprobe-d2", _view[Id].Name);
            Assert.Equal("feedprobe-d", before.Name); // a snapshot already handed out does not change
            Assert.Equal(0, _inspects);
        }

        [Theory, MemberData(nameof(Engines))]
        public void Pause_and_unpause_set_the_state(string engine)
        {
            _view[Id] = Container("running", 28105);
            Apply(Event(engine, "pause"));
            Assert.Equal("paused", _view[Id].State);
            Apply(Event(engine, "unpause"));
            Assert.True(_view[Id].IsRunning);
            Assert.Equal(0, _inspects);
        }

        [Theory]
        [InlineData("docker", "exec_start: sh -c true")]
        [InlineData("docker", "health_status: healthy")]
        [InlineData("docker", "kill")]
        [InlineData("podman", "init")]
        [InlineData("podman", "cleanup")]
        [InlineData("podman", "attach")]
        public void Events_that_change_nothing_the_allocator_reads_cost_nothing(string engine, string action)
        {
            _view[Id] = Container("running", 28106);
            Assert.False(Apply(Event(engine, action)));
            Assert.Equal(0, _inspects);
        }

        [Theory, MemberData(nameof(Engines))]
        public void An_event_for_an_unknown_id_looks_the_container_up(string engine)
        {
            _engine[Id] = Container("running", 28107);
            Assert.True(Apply(Event(engine, "cleanup"))); // a create the view missed
            Assert.Equal(new[] { 28107 }, _view[Id].TcpHostPorts);
        }

        [Theory, MemberData(nameof(Engines))]
        public void Events_out_of_order_or_of_a_gone_container_leave_nothing_behind(string engine)
        {
            // create arrives after the container was already removed (an event replayed after the list): inspect finds nothing.
            Assert.False(Apply(Event(engine, "create")));
            Assert.False(Apply(Event(engine, "start")));
            Assert.False(Apply(Event(engine, Destroy(engine))));
            Assert.Empty(_view);
            // die for a container the view holds and the engine no longer has: it goes.
            _view[Id] = Container("running", 28108);
            Assert.True(Apply(Event(engine, "die")));
            Assert.Empty(_view);
        }

        [Theory]
        [InlineData("create")]
        [InlineData("start")]
        [InlineData("restart")]
        [InlineData("die")]
        [InlineData("stop")]
        [InlineData("destroy")]
        [InlineData("remove")]
        [InlineData("pause")]
        [InlineData("unpause")]
        [InlineData("rename")]
        [InlineData("exec_start: sh")]
        [InlineData("health_status: healthy")]
        public void NeedsLook_says_exactly_when_Apply_inspects_for_a_known_and_an_unknown_container(string action)
        {
            // The view inspects outside its lock from what NeedsLook says, then applies the result: the two must agree.
            foreach (var known in new[] { false, true })
            {
                foreach (var engine in new[] { "docker", "podman" })
                {
                    foreach (var late in new[] { false, true })
                    {
                        _view.Clear();
                        _engine[Id] = Container("running", 28102);
                        if (known) _view[Id] = Container("exited", 28102);
                        var e = ContainerEvent.From(Event(engine, action, "feedprobe-renamed"), late);
                        var expected = EngineEventApplier.NeedsLook(_view, e);
                        var before = _inspects;
                        EngineEventApplier.Apply(_view, e, Inspect);
                        Assert.True(expected == (_inspects > before), $"{engine} {action}, known {known}, late {late}: NeedsLook said {expected}, Apply inspected {_inspects - before} time(s)");
                    }
                }
            }
        }

        [Fact]
        public void A_late_pause_or_unpause_of_a_known_container_is_inspected_never_applied_in_place()
        {
            // The stream dropped an unpause and delivered a later pause; the catch-up then brings the unpause, older than the map.
            _engine[Id] = Container("paused", 28110);
            _view[Id] = Container("paused", 28110);
            var late = ContainerEvent.From(Event("docker", "unpause", null), late: true);
            Assert.True(EngineEventApplier.NeedsLook(_view, late));
            EngineEventApplier.Apply(_view, late, Inspect);
            Assert.Equal("paused", _view[Id].State);
            // On the stream, the same event is applied in place.
            Assert.False(EngineEventApplier.NeedsLook(_view, ContainerEvent.From(Event("docker", "unpause", null))));
        }

        [Theory, MemberData(nameof(Engines))]
        public void A_create_replayed_for_a_container_the_view_holds_costs_no_inspect_and_a_late_one_is_looked_up(string engine)
        {
            // A list saw the container; the stream then replays its create (subscribed a little before the list). Replaying
            // the creates of a burst after each relist cost one inspect per container created in the stream's margin.
            _engine[Id] = Container("created", 28111);
            _view[Id] = Container("created", 28111);
            Assert.False(EngineEventApplier.NeedsLook(_view, ContainerEvent.From(Event(engine, "create"))));
            Assert.False(Apply(Event(engine, "create")));
            Assert.Equal(0, _inspects);
            Assert.Equal(28111, Assert.Single(_view[Id].Ports).HostPort);

            // One the view does not hold is looked up, as before; so is a catch-up's (late) create of one it holds.
            Assert.True(EngineEventApplier.NeedsLook(_view, ContainerEvent.From(Event(engine, "create"), late: true)));
            _view.Clear();
            Assert.True(Apply(Event(engine, "create")));
            Assert.Equal(1, _inspects);
        }

        [Fact]
        public void Events_replayed_after_a_list_converge_on_the_engine()
        {
            // The list saw the container running; the stream then replays create, start, die, start (all before the list).
            _engine[Id] = Container("running", 28109);
            _view[Id] = Container("running", 28109);
            foreach (var action in new[] { "create", "start", "die", "start" }) Apply(Docker(action));
            Assert.True(_view[Id].IsRunning);
            Assert.Single(_view);
        }

        [Fact]
        public void A_burst_coalesced_costs_one_inspect_per_container_and_none_for_one_created_and_removed_within_it()
        {
            const string Gone = "0aab3cf9d2390aab3cf9d2390aab3cf9d2390aab3cf9d2390aab3cf9d2390aab";
            _engine[Id] = Container("running", 28101);
            var burst = new[]
            {
                new ContainerEvent(Gone, "create", "x"), new ContainerEvent(Id, "create", "feedprobe-d"), new ContainerEvent(Gone, "init", "x"),
                new ContainerEvent(Id, "init", "feedprobe-d"), new ContainerEvent(Gone, "start", "x"), new ContainerEvent(Id, "start", "feedprobe-d"),
                new ContainerEvent(Gone, "kill", "x"), new ContainerEvent(Gone, "die", "x"), new ContainerEvent(Gone, "cleanup", "x"), new ContainerEvent(Gone, "remove", "x"),
            };
            var coalesced = EngineEventApplier.Coalesce(burst);
            foreach (var e in coalesced) EngineEventApplier.Apply(_view, e, Inspect);
            Assert.Equal(1, _inspects);
            Assert.Equal(new[] { Id }, _view.Keys);
            Assert.Equal("running", _view[Id].State);
            Assert.Equal(new[] { (Id, "start"), (Gone, "remove") }, coalesced.Select(e => (e.Id, e.Action)));
        }

        /// <summary>
        /// Every sequence of up to three events over two containers (each action of both engines) that an engine could
        /// send, from a view that knows the first container or not, or that listed the engine after some of the batch
        /// (the stream's replay after a list: its events up to the list are already in the map): the map after the
        /// coalesced batch is the map after every event one by one, with no more inspects, and after a list it is the
        /// engine's. The engine is modelled from the same events, and an inspect answers its state after the whole batch,
        /// as a view that is applying events late sees it.
        /// </summary>
        [Fact]
        public void Applying_a_coalesced_batch_leaves_the_map_as_applying_each_event_does()
        {
            const string Other = "5e1f62610888a51617d8747163c6f59abace41e944586c8d55de806728e9115d";
            var actions = new[] { "create", "start", "restart", "die", "stop", "kill", "pause", "unpause", "rename", "init", "destroy", "remove" };
            var events = actions.SelectMany(a => new[] { new ContainerEvent(Id, a, "renamed"), new ContainerEvent(Other, a, "renamed") }).ToList();
            var checkedBatches = 0;
            foreach (var batch in Sequences(events, 3))
            foreach (var existed in new[] { false, true })
            // -2: the view knows nothing; -1: it knows the first container as it was before the batch; 0..n: it listed
            // the engine after that many of the batch's events, and the stream replays the whole batch.
            foreach (var listedAfter in Enumerable.Range(-2, batch.Count + 3))
            {
                var known = listedAfter == -1;
                if (known && !existed) continue;
                Dictionary<string, ContainerSummary> Start()
                {
                    var start = new Dictionary<string, ContainerSummary>();
                    if (existed) start[Id] = Container("exited", 28101);
                    if (!batch.Any(e => e.Id == Other && e.Action == "create")) start[Other] = new ContainerSummary { Id = Other, Name = "other", State = "exited", Ports = Array.Empty<PublishedPort>() };
                    return start;
                }
                var engine = Start();
                if (!Model(engine, batch)) continue; // no engine sends this
                Dictionary<string, ContainerSummary> View()
                {
                    if (listedAfter == -2) return new Dictionary<string, ContainerSummary>();
                    if (known) return new Dictionary<string, ContainerSummary> { [Id] = Container("exited", 28101) };
                    var listed = Start();
                    Model(listed, batch.Take(listedAfter));
                    return listed;
                }
                var (one, each) = (View(), View());
                int inspectsOne = 0, inspectsEach = 0;
                foreach (var e in batch) EngineEventApplier.Apply(one, e, id => { inspectsOne++; return engine.TryGetValue(id, out var c) ? c : null; });
                foreach (var e in EngineEventApplier.Coalesce(batch)) EngineEventApplier.Apply(each, e, id => { inspectsEach++; return engine.TryGetValue(id, out var c) ? c : null; });
                var says = $"[{string.Join(", ", batch)}] existed={existed} listedAfter={listedAfter}";
                Assert.True(Render(one) == Render(each), $"{says}: one by one {Render(one)}, coalesced {Render(each)}");
                Assert.True(inspectsEach <= inspectsOne, $"{inspectsEach} inspects coalesced against {inspectsOne}: {says}");
                if (listedAfter >= 0) Assert.True(Render(each) == Render(engine), $"{says}: after the replay {Render(each)}, the engine {Render(engine)}");
                checkedBatches++;
            }
            Assert.True(checkedBatches > 5_000, $"only {checkedBatches} batches checked");
        }

        /// <summary>
        /// Applies the batch to the engine's containers; false when an engine would not send it (an event for a container it
        /// does not have, a create of one it has). An id created again after its removal is allowed: podman's restore
        /// --import keeps a container's id.
        /// </summary>
        private static bool Model(Dictionary<string, ContainerSummary> engine, IEnumerable<ContainerEvent> batch)
        {
            foreach (var e in batch)
            {
                var has = engine.TryGetValue(e.Id, out var c);
                if (e.Action == "create")
                {
                    if (has) return false;
                    engine[e.Id] = new ContainerSummary { Id = e.Id, Name = e.Name, State = "created", Ports = new[] { new PublishedPort(28102, null, 80, "tcp") } };
                    continue;
                }
                if (!has) return false;
                // A kill changes nothing by itself: the engine's die follows it.
                string state = e.Action switch { "start" or "restart" or "unpause" => "running", "die" or "stop" => "exited", "pause" => "paused", _ => c.State };
                if (e.Action == "destroy" || e.Action == "remove") engine.Remove(e.Id);
                else engine[e.Id] = new ContainerSummary { Id = c.Id, Name = e.Action == "rename" ? e.Name : c.Name, State = state, Ports = c.Ports };
            }
            return true;
        }

        private static IEnumerable<List<ContainerEvent>> Sequences(List<ContainerEvent> events, int longest)
        {
            var frontier = new List<List<ContainerEvent>> { new List<ContainerEvent>() };
            for (var length = 1; length <= longest; length++)
            {
                frontier = frontier.SelectMany(shorter => events.Select(e => new List<ContainerEvent>(shorter) { e })).ToList();
                foreach (var sequence in frontier) yield return sequence;
            }
        }

        private static string Render(Dictionary<string, ContainerSummary> map) =>
            string.Join("; ", map.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key[..6]}={p.Value.Name}:{p.Value.State}:{string.Join(",", p.Value.Ports.Select(x => x.HostPort))}"));

        [Fact]
        public void Other_types_and_empty_events_are_not_container_events()
        {
            Assert.Null(ContainerEvent.From(new Message { Type = "network", Action = "connect", Actor = new Actor { ID = "n1" } }));
            Assert.Null(ContainerEvent.From(new Message { Type = "container", Action = "", Actor = new Actor { ID = Id } }));
            Assert.Null(ContainerEvent.From(null));
            var legacy = ContainerEvent.From(new Message { Status = "Destroy", ID = Id }); // only the old fields
            Assert.Equal("destroy", legacy.Action);
            Assert.Equal(Id, legacy.Id);
        }

        [Theory]
        [InlineData(null, true)]
        [InlineData("", true)]
        [InlineData("on", true)]
        [InlineData(" OFF ", false)]
        [InlineData("off", false)]
        public void The_feed_setting_is_on_or_off(string value, bool on)
        {
            var settings = new DyadSettings(name => name == DyadSettings.EngineFeedVariable ? value : null);
            Assert.Equal(on, settings.EngineFeed);
        }

        [Theory]
        [InlineData("true")]
        [InlineData("0")]
        [InlineData("maybe")]
        public void Any_other_feed_value_is_EngineFeedInvalid(string value)
        {
            var settings = new DyadSettings(name => name == DyadSettings.EngineFeedVariable ? value : null);
            var e = Assert.Throws<DyadPortsException>(() => settings.EngineFeed);
            Assert.Equal(ErrorIds.EngineFeedInvalid, e.ErrorId);
            Assert.Contains(DyadSettings.EngineFeedVariable, e.Message, StringComparison.Ordinal);
            Assert.True(ErrorIds.IsTerminating(e.ErrorId));
        }

        [Theory]
        [InlineData("start", true)]
        [InlineData("restart", true)]
        [InlineData("create", false)]
        [InlineData("stop", false)]
        [InlineData("die", false)]
        [InlineData("unpause", false)]
        public void Only_a_start_may_give_a_container_host_ports_it_did_not_hold(string action, bool binds) =>
            Assert.Equal(binds, EngineEventApplier.MayBind(action));
    }
}
