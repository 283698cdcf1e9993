using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using DyadPorts.Completion;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Session;
using DyadPorts.Core.State;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>
    /// The session's engine clients and resolution: completion bounded by its 2 s budget against a socket that accepts and
    /// never answers and a podman that sleeps (both private to the test: a socket in a temp folder given as the system
    /// sockets, a script first on the session's PATH); a client shared by runspaces survives another's Forget; a host
    /// whose TLS files vanished is Unknown without failing the others. Ports 21800-21899.
    /// </summary>
    [Collection(EngineCollection.Name)]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public sealed class EngineSessionTests : IDisposable
    {
        private readonly EngineState _state = new EngineState();
        private readonly string _dir;
        private readonly Dictionary<string, string> _env;
        private readonly List<Socket> _sockets = new List<Socket>();

        public EngineSessionTests()
        {
            _dir = Directory.CreateDirectory(Path.Combine(_state.Temp.Directory, "s")).FullName;
            _env = new Dictionary<string, string>
            {
                ["HOME"] = _dir,
                ["XDG_RUNTIME_DIR"] = Path.Combine(_dir, "xdg"),
                ["DOCKER_CONFIG"] = Path.Combine(_dir, ".docker"),
                ["CONTAINERS_CONF"] = Path.Combine(_dir, "containers.conf"),
                ["PODMAN_CONNECTIONS_CONF"] = Path.Combine(_dir, "podman-connections.json"),
                ["DYAD_PORTS_STATE"] = _state.Location,
                ["PATH"] = Path.Combine(_dir, "bin"),
            };
        }

        public void Dispose()
        {
            foreach (var socket in _sockets) socket.Dispose();
            _state.Dispose();
        }

        private string Env(string name) => _env.TryGetValue(name, out var v) ? v : null;

        /// <summary>A unix socket that accepts connections (the kernel's backlog) and never answers them.</summary>
        private string SilentSocket(string name)
        {
            var path = Path.Combine(_dir, name);
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Bind(new UnixDomainSocketEndPoint(path));
            socket.Listen(64);
            _sockets.Add(socket);
            return path;
        }

        /// <summary>A `podman` first on the session's PATH that writes a marker and sleeps; the marker's path.</summary>
        private string SleepingPodman()
        {
            var bin = Directory.CreateDirectory(Path.Combine(_dir, "bin")).FullName;
            var marker = Path.Combine(_dir, "podman-ran");
            var script = Path.Combine(bin, "podman");
            File.WriteAllText(script, $"#!/bin/sh\necho $$ > '{marker}'\nexec sleep 30\n");
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            // A podman machine connection as podman 5 writes it, with no machine socket on disk: only `podman machine inspect` could tell.
            File.WriteAllText(_env["PODMAN_CONNECTIONS_CONF"],
                "{\"Connection\":{\"Default\":\"podman-machine-default\",\"Connections\":{\"podman-machine-default\":{\"URI\":\"ssh://core@127.0.0.1:53711/run/user/1000/podman/podman.sock\",\"IsMachine\":true}}}}");
            return marker;
        }

        [Fact]
        public void Completion_returns_within_its_budget_when_the_default_socket_never_answers()
        {
            var silent = SilentSocket("silent.sock");
            var session = new DyadSession(Env, new SystemSockets(new[] { silent }, new[] { silent }));
            var watch = Stopwatch.StartNew();
            var ids = AppIdCompleter.KnownAppIds(session).ToList();
            watch.Stop();
            Assert.Empty(ids);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2.5), $"completion took {watch.Elapsed}");
        }

        [Fact]
        public void An_engine_that_takes_the_connection_and_never_answers_is_EngineUnreachable_as_a_timeout_naming_what_was_asked()
        {
            var silent = "unix://" + SilentSocket("hung.sock");
            using var engine = new ContainerEngine(silent, EngineKind.Docker);
            var watch = Stopwatch.StartNew();
            var e = Assert.Throws<DyadPortsException>(() => engine.Ping(default));
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"the ping took {watch.Elapsed}");
            Assert.Equal(ErrorIds.EngineUnreachable, e.ErrorId);
            Assert.Equal(FailureCategory.OperationTimeout, e.Category);
            Assert.Equal(silent, e.Target);
            Assert.Contains("did not answer in time (to answer a ping)", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("canceled", e.Message, StringComparison.OrdinalIgnoreCase);
        }

        [Fact]
        public void Completion_leaves_out_an_empty_app_id_and_quotes_one_that_is_not_a_plain_app_id()
        {
            // A state written by another tool: keys PowerShell could not take as they are.
            var path = Path.Combine(_dir, "odd-state.json");
            new StateStore(path).Update(s =>
            {
                foreach (var id in new[] { "", "web.1", "has space" }) s.Allocations[id] = new AllocationRecord { AppId = id, Port = 21990, Engine = EngineKind.Process };
                return 0;
            }, id => new StateDocument { StateId = id.StateId }, NullOperationLog.Instance, default);
            _env["DYAD_PORTS_STATE"] = path;
            var session = new DyadSession(Env, new SystemSockets(Array.Empty<string>(), Array.Empty<string>()));
            Assert.Equal(new[] { "has space", "web.1" }, AppIdCompleter.KnownAppIds(session).OrderBy(id => id, StringComparer.Ordinal));
        }

        [Fact]
        public void Completion_yields_nothing_and_never_throws_whatever_the_states_client_library_throws()
        {
            // Past the location's own checks, the etcd client still parses the endpoints and may throw anything of its own.
            var session = new DyadSession(Env, new SystemSockets(Array.Empty<string>(), Array.Empty<string>()), () => new ThrowingFleet());
            _env["DYAD_PORTS_STATE"] = "etcd://127.0.0.1:2379";
            var watch = Stopwatch.StartNew();
            Assert.Empty(AppIdCompleter.KnownAppIds(session));
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2.5), $"completion took {watch.Elapsed}");
        }

        /// <summary>A fleet whose client library fails in its own way on open (as dotnet-etcd's endpoint parsing throws UriFormatException).</summary>
        private sealed class ThrowingFleet : DyadPorts.Core.Ledger.IFleetLedgers
        {
            public DyadPorts.Core.Ledger.IAllocationLedger Open(DyadPorts.Core.State.StateLocation location, DyadSettings settings, DyadPorts.Core.Ledger.IStateRecovery recovery) =>
                throw new UriFormatException("Invalid URI: The hostname could not be parsed.");
        }

        [Fact]
        public void A_default_socket_that_refuses_to_say_its_version_is_passed_over_when_a_state_is_rebuilt()
        {
            // A command without a container engine (-Engine Process) asks the default sockets for an engine to rebuild a
            // state from; one whose proxy forbids /version cannot say its kind. The command named its engine already, so
            // EngineVersionRefused (whose advice is to name one) is no answer: that socket is passed over.
            using var proxy = new HoldingEngineProxy(TestEngine.Get("docker").Endpoint);
            proxy.Refuse(line => line.Contains("/version", StringComparison.Ordinal));
            var session = new DyadSession(Env, new SystemSockets(new[] { proxy.SocketPath }, new[] { proxy.SocketPath }));
            var log = new RecordingLog();

            var found = session.FindRecoveryEngine(session.Settings(), log, default);

            Assert.Contains(proxy.Requests, r => r.Contains("/version", StringComparison.Ordinal));
            Assert.Contains(log.Verbose, line => line.StartsWith($"Not rebuilding the state from {proxy.Endpoint}", StringComparison.Ordinal) && line.Contains("HTTP 403", StringComparison.Ordinal));
            // The Auto rule's default socket (a kind only inferred) is passed over; podman's own rules then name the
            // family of their socket (this proxy), which needs no question.
            Assert.Single(log.Verbose, line => line.StartsWith("Not rebuilding the state from", StringComparison.Ordinal));
            Assert.NotNull(found);
            Assert.Equal(EngineKind.Podman, found.Kind);
        }

        [Fact]
        public void Completion_keeps_its_budget_when_the_thread_pool_is_busy()
        {
            // Every pool thread busy (a loaded host process, many runspaces): a cancellation that must run on the pool to
            // reach a call blocked on a silent socket comes late, and the prompt must not wait for it.
            var silent = SilentSocket("busy-pool.sock");
            var session = new DyadSession(Env, new SystemSockets(new[] { silent }, new[] { silent }));
            // A task, not a disposable event: work items the pool starts only after the test has ended must find the gate open.
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var busy = ThreadPool.ThreadCount + Environment.ProcessorCount * 2;
            for (var i = 0; i < busy; i++) ThreadPool.UnsafeQueueUserWorkItem(_ => gate.Task.Wait(TimeSpan.FromSeconds(20)), null);
            try
            {
                var watch = Stopwatch.StartNew();
                Assert.Empty(AppIdCompleter.KnownAppIds(session));
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2.5), $"completion took {watch.Elapsed} with {busy} pool work items holding their threads");
            }
            finally
            {
                gate.SetResult();
            }
        }

        [Fact]
        public void Completion_starts_no_process_for_a_podman_machine_and_a_full_resolution_is_cut_short_by_its_token()
        {
            var marker = SleepingPodman();
            var session = new DyadSession(Env, new SystemSockets(Array.Empty<string>(), Array.Empty<string>()));
            var watch = Stopwatch.StartNew();
            Assert.Empty(AppIdCompleter.KnownAppIds(session));
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2.5), $"completion took {watch.Elapsed}");
            Assert.False(File.Exists(marker), "completion started podman");

            // The same resolution outside completion asks podman, and the caller's token ends the wait (and the process).
            using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1)))
            {
                watch.Restart();
                Assert.ThrowsAny<OperationCanceledException>(() => session.Resolve(EngineKind.Auto, null, cts.Token));
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"resolution took {watch.Elapsed}");
            }
            Assert.True(File.Exists(marker), "the full resolution should have asked podman machine inspect");
            var pid = int.Parse(File.ReadAllText(marker).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            Thread.Sleep(200);
            Assert.False(IsRunning(pid), "the podman started for the resolution was left running");
        }

        private static bool IsRunning(int pid)
        {
            try
            {
                using (var p = Process.GetProcessById(pid)) return !p.HasExited;
            }
            catch (ArgumentException)
            {
                return false;
            }
        }

        [Fact]
        public void A_resolution_is_kept_until_the_socket_it_chose_is_forgotten()
        {
            var silent = SilentSocket("silent.sock");
            var session = new DyadSession(Env, new SystemSockets(new[] { silent }, Array.Empty<string>()));
            _env["CONTAINERIZATION_ENGINE"] = "podman";
            var watch = Stopwatch.StartNew();
            var first = session.Resolve(EngineKind.Auto, null); // the silent socket: 3 s ping, then chosen as the family's default
            var probing = watch.Elapsed;
            watch.Restart();
            Assert.Same(first, session.Resolve(EngineKind.Auto, null));
            Assert.True(watch.Elapsed < TimeSpan.FromMilliseconds(500) && probing > TimeSpan.FromSeconds(2), $"first {probing}, second {watch.Elapsed}");
            session.Forget(first.Endpoint);
            Assert.NotSame(first, session.Resolve(EngineKind.Auto, null, new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token));
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void A_client_in_use_survives_another_runspaces_Forget(string row)
        {
            var engine = _state.Use(row);
            var session = new DyadSession(Env);
            var target = new EngineTarget(engine.Kind, engine.Endpoint, true, "test");
            var client = session.Engine(target);
            client.Ping(default);
            var clients = Enumerable.Range(0, 16).AsParallel().Select(_ => session.Engine(target)).Distinct().ToList();
            Assert.Same(client, Assert.Single(clients));

            session.Forget(engine.Endpoint); // another runspace's EngineUnreachable
            client.Ping(default);
            Assert.NotNull(client.Snapshot(default));
            Assert.Same(client, session.Engine(target));
        }

        [Fact]
        public void A_host_whose_tls_files_are_gone_is_Unknown_and_the_local_records_are_still_reconciled()
        {
            var docker = TestEngine.Get("docker");
            var certs = Directory.CreateDirectory(Path.Combine(_dir, "certs")).FullName;
            Directory.Delete(certs); // DOCKER_CERT_PATH vanished
            _env["DOCKER_TLS_VERIFY"] = "1";
            _env["DOCKER_CERT_PATH"] = certs;
            const string remote = "tcp://10.231.0.2:2376";
            _state.Seed(s =>
            {
                s.Allocations["far"] = new AllocationRecord { AppId = "far", Port = 21850, Engine = EngineKind.Docker, EngineEndpoint = remote };
                s.Allocations["near"] = new AllocationRecord { AppId = "near", Port = 21851, Engine = EngineKind.Docker, EngineEndpoint = docker.Endpoint };
            });

            var session = new DyadSession(Env);
            var allocator = _state.Allocator(session.Engine(new EngineTarget(EngineKind.Docker, docker.Endpoint, true, "test")), EngineKind.Docker);
            allocator.EngineFor = session.RecordEngine;
            var errors = new List<DyadPortsException>();
            var listed = allocator.Get(_ => true, NullOperationLog.Instance, errors.Add, default).ToDictionary(a => a.AppId);
            Assert.Equal(AllocationStatus.Unknown, listed["far"].Status);
            Assert.Equal(AllocationStatus.Reserved, listed["near"].Status);
            var error = Assert.Single(errors);
            Assert.Equal(ErrorIds.EngineUnreachable, error.ErrorId);
            Assert.Equal(remote, error.Target);
            Assert.Contains("TLS files", error.Message);
        }

        [Fact]
        public void A_named_family_is_taken_as_said_and_a_kind_only_inferred_from_a_default_socket_is_asked()
        {
            // podman's socket as docker's default socket, as podman-docker's /var/run/docker.sock is.
            var podman = TestEngine.Get("podman").Endpoint;
            Assert.StartsWith("unix://", podman, StringComparison.Ordinal);
            var session = new DyadSession(Env, new SystemSockets(Array.Empty<string>(), new[] { podman.Substring("unix://".Length) }));

            // -Engine Docker names the family: the socket is pinged (it is the family's only default that answers), and not asked what it is.
            var named = session.Allocator(EngineKind.Docker, null, NullOperationLog.Instance, default);
            Assert.Equal(podman, named.Endpoint);
            Assert.Equal(EngineKind.Docker, named.Kind);
            Assert.Equal(1, named.Engine.Engine.Calls); // the ping; a /version call would make 2

            // Nothing named: docker's default socket answered, so the rules only inferred Docker, and the engine says it is podman.
            var inferred = session.Allocator(EngineKind.Auto, null, NullOperationLog.Instance, default);
            Assert.Equal(podman, inferred.Endpoint);
            Assert.Equal(EngineKind.Podman, inferred.Kind);
            Assert.Equal(3, inferred.Engine.Engine.Calls); // the same client: a second ping, then /version
        }
    }
}
