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
                    _view.Clear();
                    _engine[Id] = Container("running", 28102);
                    if (known) _view[Id] = Container("exited", 28102);
                    var e = ContainerEvent.From(Event(engine, action, "feedprobe-renamed"));
                    var expected = EngineEventApplier.NeedsLook(_view, e);
                    var before = _inspects;
                    EngineEventApplier.Apply(_view, e, Inspect);
                    Assert.True(expected == (_inspects > before), $"{engine} {action}, known {known}: NeedsLook said {expected}, Apply inspected {_inspects - before} time(s)");
                }
            }
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
    }
}
