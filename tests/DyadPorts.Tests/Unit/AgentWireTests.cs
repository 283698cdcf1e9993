using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using DyadPorts.Core.Agent;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary>The agent's protocol (<see cref="AgentWire"/>) and where its socket is (<see cref="AgentSocket"/>): pure, no socket.</summary>
    public sealed class AgentWireTests
    {
        private static ContainerSummary Container(string id, string name, params PublishedPort[] ports) => new ContainerSummary
        {
            Id = id,
            Name = name,
            State = "created",
            Image = "busybox",
            Labels = new Dictionary<string, string> { [ContainerSummary.ManagedLabel] = "true", [ContainerSummary.AppIdLabel] = "56", ["empty"] = "" },
            Ports = ports,
            Created = new DateTimeOffset(2026, 12, 2, 5, 0, 0, TimeSpan.FromHours(2)),
        };

        [Fact]
        public void A_request_round_trips_with_its_tls_folder_and_changes()
        {
            var request = new AgentRequest
            {
                Endpoint = "tcp://10.0.0.5:2376",
                Kind = EngineKind.Podman,
                TlsFolder = "/home/u/.docker",
                TlsSource = "DOCKER_CERT_PATH",
                Changed = new List<KeyValuePair<string, bool>> { new("abc", false), new("déf", true) },
            };
            var back = AgentWire.DecodeRequest(AgentWire.Encode(request));
            Assert.Equal(request.Endpoint, back.Endpoint);
            Assert.Equal(EngineKind.Podman, back.Kind);
            Assert.Equal("/home/u/.docker", back.TlsFolder);
            Assert.Equal("DOCKER_CERT_PATH", back.TlsSource);
            Assert.Equal(request.Changed, back.Changed);

            var plain = AgentWire.DecodeRequest(AgentWire.Encode(new AgentRequest { Endpoint = "unix:///run/docker.sock", Kind = EngineKind.Docker }));
            Assert.Null(plain.TlsFolder);
            Assert.Empty(plain.Changed);
        }

        [Fact]
        public void An_answer_round_trips_every_field_a_snapshot_reads()
        {
            var containers = new[]
            {
                Container("a1", "dyad-app-56", new PublishedPort(32100, null, 32100, "tcp"), new PublishedPort(5353, "127.0.0.1", 53, "udp")),
                new ContainerSummary { Id = "b2", Name = null, State = null, Image = null },
            };
            var back = AgentWire.DecodeAnswer(AgentWire.Encode(new AgentAnswer { Containers = containers }));
            Assert.Equal(2, back.Containers.Count);
            var a = back.Containers[0];
            Assert.Equal(("a1", "dyad-app-56", "created", "busybox"), (a.Id, a.Name, a.State, a.Image));
            Assert.Equal(containers[0].Labels.OrderBy(l => l.Key), a.Labels.OrderBy(l => l.Key));
            Assert.Equal("56", a.AppId);
            Assert.Equal(containers[0].Ports.Select(p => p.ToString()), a.Ports.Select(p => p.ToString()));
            Assert.Equal(containers[0].Created, a.Created);
            var b = back.Containers[1];
            Assert.Equal(("b2", (string)null, (string)null, (string)null), (b.Id, b.Name, b.State, b.Image));
            Assert.Empty(b.Ports);
            Assert.Null(b.Created);
            Assert.Equal(new[] { 32100 }, new EngineSnapshot(back.Containers).OnHostPort(32100).Select(c => c.TcpHostPorts.Single()));
        }

        [Fact]
        public void A_status_round_trips_and_is_told_from_a_view_request()
        {
            var status = new AgentInfo
            {
                Path = "/run/user/1000/dyadports/agent.sock",
                ProcessId = 4242,
                StartedAt = new DateTimeOffset(2026, 12, 3, 4, 0, 0, TimeSpan.Zero),
                Answered = 7, Declined = 3, Refused = 2, Failed = 1, ChangesInspected = 5,
                Endpoints = new[]
                {
                    new AgentEndpointInfo { Endpoint = "unix:///run/docker.sock", Engine = EngineKind.Docker, Live = true, Lists = 2, EngineCalls = 40 },
                    new AgentEndpointInfo { Endpoint = "unix:///run/podman/podman.sock", Engine = EngineKind.Podman, Live = false, Lists = 0, EngineCalls = 3 },
                },
            };
            var back = AgentWire.DecodeStatus(AgentWire.Encode(status), "/asked/here.sock");
            Assert.Equal("/asked/here.sock", back.Path); // the asker's path, not the agent's word for it
            Assert.Equal((4242, status.StartedAt, 7L, 3L, 2L, 1L, 5L), (back.ProcessId, back.StartedAt, back.Answered, back.Declined, back.Refused, back.Failed, back.ChangesInspected));
            Assert.Equal(
                status.Endpoints.Select(e => (e.Endpoint, e.Engine, e.Live, e.Lists, e.EngineCalls)),
                back.Endpoints.Select(e => (e.Endpoint, e.Engine, e.Live, e.Lists, e.EngineCalls)));

            Assert.True(AgentWire.IsStatusRequest(AgentWire.StatusRequest()));
            Assert.False(AgentWire.IsStatusRequest(AgentWire.Encode(new AgentRequest { Endpoint = "unix:///x", Kind = EngineKind.Docker })));
            // An agent of 0.6.3 reads a status request as a protocol version it does not speak, and a status is no view's answer.
            Assert.Throws<InvalidDataException>(() => AgentWire.DecodeRequest(AgentWire.StatusRequest()));
            Assert.Throws<InvalidDataException>(() => AgentWire.DecodeAnswer(AgentWire.Encode(status)));
            Assert.Throws<InvalidDataException>(() => AgentWire.DecodeStatus(FakeAgent.Empty, "/x"));
        }

        [Fact]
        public void A_declined_answer_keeps_its_reason_and_no_containers()
        {
            var back = AgentWire.DecodeAnswer(AgentWire.Encode(new AgentAnswer { Reason = "not live" }));
            Assert.Null(back.Containers);
            Assert.Equal("not live", back.Reason);
        }

        public static IEnumerable<object[]> Malformed()
        {
            var good = AgentWire.Encode(new AgentAnswer { Containers = new[] { Container("a1", "n", new PublishedPort(1, null, 1, "tcp")) } });
            yield return new object[] { "another version", new byte[] { 2, 0 } };
            yield return new object[] { "cut short", good.Take(good.Length - 3).ToArray() };
            yield return new object[] { "more than its fields", good.Concat(new byte[] { 0 }).ToArray() };
            var huge = (byte[])good.Clone();
            BitConverter.GetBytes(int.MaxValue).CopyTo(huge, 2); // the count of containers
            yield return new object[] { "a count past the frame", huge };
            var many = (byte[])good.Clone();
            BitConverter.GetBytes(good.Length / 2).CopyTo(many, 2); // fewer than the frame's bytes, more than its containers can take
            yield return new object[] { "a count the bytes left cannot hold", many };
            var created = AgentWire.Encode(new AgentAnswer { Containers = new[] { Container("a1", "n") } });
            BitConverter.GetBytes(long.MaxValue).CopyTo(created, created.Length - 8); // the created time, out of range
            yield return new object[] { "a created time out of range", created };
        }

        [Theory, MemberData(nameof(Malformed))]
        public void A_malformed_answer_is_invalid_data(string what, byte[] frame)
        {
            Assert.NotNull(what);
            Assert.Throws<InvalidDataException>(() => AgentWire.DecodeAnswer(frame));
        }

        [Fact]
        public async System.Threading.Tasks.Task A_frame_is_its_length_then_its_bytes_and_a_length_past_the_bound_is_refused()
        {
            using var stream = new MemoryStream();
            await AgentWire.WriteFrameAsync(stream, new byte[] { 1, 2, 3 }, default);
            Assert.Equal(new byte[] { 3, 0, 0, 0, 1, 2, 3 }, stream.ToArray());
            stream.Position = 0;
            Assert.Equal(new byte[] { 1, 2, 3 }, await AgentWire.ReadFrameAsync(stream, default));
            await Assert.ThrowsAsync<InvalidDataException>(() => AgentWire.ReadFrameAsync(new MemoryStream(BitConverter.GetBytes(AgentWire.MaxFrame + 1)), default));
            await Assert.ThrowsAsync<InvalidDataException>(() => AgentWire.ReadFrameAsync(new MemoryStream(new byte[] { 9, 0, 0, 0, 1 }), default));
        }

        [Fact]
        public async System.Threading.Tasks.Task A_request_is_read_within_its_own_small_bound_and_the_largest_one_an_asker_sends_fits()
        {
            // The length alone is refused: nothing is allocated for a peer that announces more.
            await Assert.ThrowsAsync<InvalidDataException>(() => AgentWire.ReadFrameAsync(new MemoryStream(BitConverter.GetBytes(AgentWire.MaxRequestFrame + 1)), AgentWire.MaxRequestFrame, default));
            // The most an asker sends: every change it may send, ids as long as an engine makes them, a long TLS folder.
            var changed = new System.Collections.Generic.List<System.Collections.Generic.KeyValuePair<string, bool>>();
            for (var i = 0; i < EngineAgent.MostChanges; i++) changed.Add(new System.Collections.Generic.KeyValuePair<string, bool>(new string('a', 63) + (i % 10), i % 2 == 0));
            var largest = AgentWire.Encode(new AgentRequest { Endpoint = "tcp://" + new string('h', 253) + ":2376", Kind = EngineKind.Docker, TlsFolder = "/" + new string('f', 1000), TlsSource = new string('s', 1000), Changed = changed });
            Assert.True(largest.Length < AgentWire.MaxRequestFrame / 4, $"the largest request takes {largest.Length} bytes");
            using var stream = new MemoryStream();
            await AgentWire.WriteFrameAsync(stream, largest, default);
            stream.Position = 0;
            Assert.Equal(largest, await AgentWire.ReadFrameAsync(stream, AgentWire.MaxRequestFrame, default));
        }

        /// <summary>
        /// A change of the session's own is sent along until the agent's view has it even when the view's stream dropped its
        /// event: that takes the view's next catch-up (every BusyCatchUpRepeat on a stream that is never quiet, every
        /// QuietCatchUpRepeat on an unread one), at a heartbeat, with its window, and the inspect within the freshness bound.
        /// </summary>
        [Fact]
        public void The_changes_a_session_sends_along_outlive_the_catch_up_that_recovers_a_dropped_event()
        {
            // The slowest catch-up: a busy stream's, or an unread view's quiet one, then the heartbeat that runs it and its window.
            var due = (ViewTiming.BusyCatchUpRepeat > ViewTiming.QuietCatchUpRepeat ? ViewTiming.BusyCatchUpRepeat : ViewTiming.QuietCatchUpRepeat)
                + ViewTiming.HeartbeatInterval + ViewTiming.CatchUpWindow;
            Assert.True(AgentClient.ChangesKept > due, $"changes are sent for {AgentClient.ChangesKept}, a dropped event is caught up only within {due}");
            Assert.True(AgentClient.ChangesKept - due >= ViewTiming.FreshnessBound, "and its inspect needs up to the freshness bound after that");
        }

        [Fact]
        public void The_blocking_frame_calls_write_and_read_the_same_bytes_with_the_same_checks()
        {
            using var stream = new MemoryStream();
            AgentWire.WriteFrame(stream, new byte[] { 1, 2, 3 });
            AgentWire.WriteFrame(stream, new byte[] { 4 });
            Assert.Equal(new byte[] { 3, 0, 0, 0, 1, 2, 3, 1, 0, 0, 0, 4 }, stream.ToArray());
            stream.Position = 0;
            Assert.Equal(new byte[] { 1, 2, 3 }, AgentWire.ReadFrame(stream));
            Assert.Equal(new byte[] { 4 }, AgentWire.ReadFrame(stream));
            Assert.Throws<InvalidDataException>(() => AgentWire.ReadFrame(stream)); // nothing left: the length is cut short
            Assert.Throws<InvalidDataException>(() => AgentWire.ReadFrame(new MemoryStream(BitConverter.GetBytes(AgentWire.MaxFrame + 1))));
            Assert.Throws<InvalidDataException>(() => AgentWire.ReadFrame(new MemoryStream(BitConverter.GetBytes(0))));
            Assert.Throws<InvalidDataException>(() => AgentWire.ReadFrame(new MemoryStream(new byte[] { 9, 0, 0, 0, 1 })));
        }

        [UnixFact]
        public void The_socket_is_the_variables_path_the_per_user_default_or_none()
        {
            string Resolve(string value, string runtime = null) =>
                AgentSocket.Resolve(name => name == AgentSocket.Variable ? value : name == "XDG_RUNTIME_DIR" ? runtime : null);
            Assert.Equal("/run/user/1000/dyadports/agent.sock", Resolve(null, "/run/user/1000"));
            Assert.Equal("/srv/agent.sock", Resolve(" /srv/agent.sock "));
            Assert.Null(Resolve("off"));
            Assert.Null(Resolve("OFF"));
            // Without a usable XDG_RUNTIME_DIR (cron): the user's /run/user/<uid> when it is theirs, else a folder in /tmp.
            string Default(string runtime, bool runUserIsOwn) =>
                AgentSocket.DefaultPath(name => name == "XDG_RUNTIME_DIR" ? runtime : null, folder => runUserIsOwn && folder.StartsWith("/run/user/", StringComparison.Ordinal));
            var uid = Core.State.UnixFiles.EffectiveUserId.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal($"/run/user/{uid}/dyadports/agent.sock", Default(null, true));
            Assert.Equal($"/run/user/{uid}/dyadports/agent.sock", Default("relative/runtime", true));
            Assert.Equal(Path.Combine(Path.GetTempPath(), $"dyadports-{uid}", "agent.sock"), Default(null, false));
            Assert.Equal("/run/user/1000/dyadports/agent.sock", Default("/run/user/1000", false));
            var tooLong = "/" + new string('a', AgentSocket.MostPathBytes);
            Assert.Equal(ErrorIds.AgentSocketInvalid, Assert.Throws<DyadPortsException>(() => Resolve(tooLong)).ErrorId);
            Assert.Null(Resolve(null, "/" + new string('r', AgentSocket.MostPathBytes))); // a default no socket fits: no agent
            var invalid = Assert.Throws<DyadPortsException>(() => Resolve("agent.sock"));
            Assert.Equal(ErrorIds.AgentSocketInvalid, invalid.ErrorId);
            Assert.Equal("agent.sock", invalid.Target);
            Assert.True(invalid.IsTerminating);
        }
    }
}
