using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Availability;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Ledger;
using DyadPorts.Core.Previews;
using DyadPorts.Core.Session;
using DyadPorts.Core.State;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>
    /// A remote engine over TCP with TLS: a real dockerd in a network namespace (<see cref="RemoteDockerHost"/>).
    /// Allocations are per host; this machine's sockets say nothing about the remote one. Ports 21900-21979.
    /// </summary>
    [Collection(RemoteEngineCollection.Name)]
    public sealed class RemoteEngineTests : IDisposable
    {
        private static readonly HttpClient Http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        private readonly RemoteDockerHost _remote;
        private readonly TempState _temp = new TempState();

        public RemoteEngineTests(RemoteDockerHost remote)
        {
            _remote = remote;
            _remote.CleanUp();
        }

        public void Dispose()
        {
            _remote.CleanUp();
            TestEngine.Get("docker").CleanUp();
            _temp.Dispose();
        }

        /// <summary>As the session builds it: the host probe is chosen from the endpoint (the none probe for a remote one).</summary>
        private PortAllocator Remote() => new PortAllocator(_temp.Store, _remote.Engine, EngineKind.Docker) { EngineFor = _ => _remote.Engine };

        [Fact]
        public void A_local_listener_does_not_block_the_remote_port()
        {
            var listener = new TcpListener(IPAddress.Any, 21900);
            listener.Start();
            try
            {
                Assert.False(HostPortProbe.Instance.IsFree(21900));
                var status = Remote().Test(new[] { 21900 }, NullOperationLog.Instance, default).Single();
                Assert.True(status.Available, status.HeldBy);
                var allocation = Remote().Request(TestRun.App("r1"), new PortRange(21900, 21900), false, NullOperationLog.Instance, default);
                Assert.Equal(21900, allocation.Port);
                Assert.Equal(RemoteDockerHost.Endpoint, allocation.EngineEndpoint);
                Assert.Equal(RemoteDockerHost.Address, allocation.Host);
            }
            finally
            {
                listener.Stop();
            }
        }

        [Fact]
        public void The_engine_view_follows_a_remote_tls_host_and_passes_over_a_container_another_client_made_there()
        {
            using var views = new EngineViews();
            var allocator = new PortAllocator(new FileLedger(_temp.Store, null), new EngineSnapshots(_remote.Engine, EngineKind.Docker, views)) { EngineFor = _ => _remote.Engine };
            var range = new PortRange(21960, 21965);
            Assert.Equal(21960, allocator.Request(TestRun.App("rv1"), range, false, NullOperationLog.Instance, default).Port);
            Assert.Null(views.For(RemoteDockerHost.Endpoint));   // one read starts nothing
            Assert.Equal(21960, allocator.Request(TestRun.App("rv1"), range, false, NullOperationLog.Instance, default).Port);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (!views.IsLive(RemoteDockerHost.Endpoint) && clock.Elapsed < TimeSpan.FromSeconds(15)) System.Threading.Thread.Sleep(20);
            Assert.True(views.IsLive(RemoteDockerHost.Endpoint), "the view of the remote TLS host is not live after 15 s");

            // Another client (the test's own, over the same TLS) runs a container on the next free port; after the
            // view's freshness bound an allocation passes over it without a call through the command's client.
            _remote.Run("dpt12-feed-holder", 21961);
            System.Threading.Thread.Sleep(ViewTiming.FreshnessBound);
            var calls = _remote.Engine.Calls;
            var allocation = allocator.Request(TestRun.App("rv2"), range, false, NullOperationLog.Instance, default);
            Assert.Equal(21962, allocation.Port);
            Assert.Equal(calls, _remote.Engine.Calls);
            Assert.True(views.For(RemoteDockerHost.Endpoint).Calls > 0, "the view made no call of its own");
        }

        [Fact]
        public void A_remote_container_blocks_its_port_there_and_not_here()
        {
            _remote.Run("dpt12-remote-holder", 21901);
            Assert.True(HostPortProbe.Instance.IsFree(21901));
            Assert.True(StrictHostPortProbe.Instance.IsFree(21901));
            var status = Remote().Test(new[] { 21901 }, NullOperationLog.Instance, default).Single();
            Assert.False(status.Available);
            Assert.Equal(PortHolderSource.Container, status.Source);
            Assert.Equal("container dpt12-remote-holder", status.HeldBy);
            Assert.Equal(21902, Remote().Request(TestRun.App("r2"), new PortRange(21901, 21905), false, NullOperationLog.Instance, default).Port);
        }

        [Fact]
        public async System.Threading.Tasks.Task A_preview_started_on_the_remote_answers_at_its_url()
        {
            var app = Directory.CreateDirectory(Path.Combine(_temp.Directory, "app")).FullName; // a path on the engine's host (the same disk here)
            File.WriteAllText(Path.Combine(app, "index.html"), "hello from host b");
            var launcher = new PreviewLauncher(Remote());
            var request = new PreviewRequest
            {
                AppId = TestRun.App("r3"),
                Path = app,
                Image = _remote.Image,
                Command = new[] { "httpd -f -p \"$PORT\" -h /app" },
                Range = new PortRange(21910, 21915),
                Timeout = TimeSpan.FromSeconds(60),
            };
            var preview = launcher.Start(request, NullOperationLog.Instance, default);
            Assert.Equal($"http://{RemoteDockerHost.Address}:21910", preview.Url);
            Assert.Equal(RemoteDockerHost.Endpoint, preview.EngineEndpoint);
            Assert.Equal("hello from host b", await Http.GetStringAsync(preview.Url + "/"));
            Assert.True(HostPortProbe.Instance.IsFree(21910)); // nothing listens on this host

            var listed = Assert.Single(Remote().Get(id => id == request.AppId, NullOperationLog.Instance, default));
            Assert.Equal(AllocationStatus.Active, listed.Status);
            var stopped = launcher.Stop(request.AppId, true, false, NullOperationLog.Instance, default);
            Assert.Equal($"http://{RemoteDockerHost.Address}:21910", stopped.Url);
        }

        /// <summary>
        /// Start-DyadPreview, in a pwsh of its own whose DOCKER_HOST is the remote: a relative -Path is refused for that app
        /// alone (it was resolved against this machine's location and mounted from there on the remote host), and an
        /// absolute one piped after it starts. Ports 21950-21955.
        /// </summary>
        [Fact]
        public async System.Threading.Tasks.Task Start_DyadPreview_refuses_a_relative_path_for_a_remote_engine_and_starts_the_next_app()
        {
            var app = Directory.CreateDirectory(Path.Combine(_temp.Directory, "app")).FullName; // on the engine's host too (the same disk here)
            File.WriteAllText(Path.Combine(app, "index.html"), "hello from host b");
            var relative = TestRun.App("r5rel");
            var absolute = TestRun.App("r5abs");
            var env = new Dictionary<string, string>
            {
                ["DOCKER_HOST"] = RemoteDockerHost.Endpoint,
                ["DOCKER_TLS_VERIFY"] = "1",
                ["DOCKER_CERT_PATH"] = _remote.CertDir,
                ["DOCKER_CONTEXT"] = null,
                ["CONTAINER_HOST"] = null,
                ["CONTAINERIZATION_ENGINE"] = null,
                ["DYAD_PORTS_STATE"] = _temp.StatePath,
                ["R5_FOLDER"] = _temp.Directory,
                ["R5_ABSOLUTE"] = app,
                ["R5_IMAGE"] = _remote.Image,
                ["R5_RELATIVE_APP"] = relative,
                ["R5_ABSOLUTE_APP"] = absolute,
            };
            const string Script = """
                Import-Module $env:DYADPORTS_CHILD_MODULE
                Set-Location $env:R5_FOLDER
                $previews = [pscustomobject]@{ AppId = $env:R5_RELATIVE_APP; Path = 'app' }, [pscustomobject]@{ AppId = $env:R5_ABSOLUTE_APP; Path = $env:R5_ABSOLUTE } |
                    Start-DyadPreview -Image $env:R5_IMAGE -Command 'httpd -f -p "$PORT" -h /app' -PortRange 21950-21955 -TimeoutSec 60 -ErrorVariable failed -ErrorAction SilentlyContinue
                foreach ($e in $failed) { "ERROR|$($e.FullyQualifiedErrorId)|$($e.CategoryInfo.Category)|$($e.TargetObject)" }
                foreach ($p in $previews) { "PREVIEW|$($p.AppId)|$($p.Url)" }
                Stop-DyadPreview $env:R5_ABSOLUTE_APP | Out-Null
                """;
            using var child = ChildPwsh.Start(Script, env);
            Assert.True(child.WaitForExit(TimeSpan.FromSeconds(120)), child.ToString());
            var lines = child.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var error = Assert.Single(lines, l => l.StartsWith("ERROR|", StringComparison.Ordinal));
            Assert.Equal("ERROR|PreviewPathNotAbsolute,DyadPorts.Commands.StartDyadPreviewCommand|InvalidArgument|app", error);
            var preview = Assert.Single(lines, l => l.StartsWith("PREVIEW|", StringComparison.Ordinal));
            Assert.Equal($"PREVIEW|{absolute}|http://{RemoteDockerHost.Address}:21950", preview);
            var listed = await _remote.Client.Containers.ListContainersAsync(new Docker.DotNet.Models.ContainersListParameters { All = true });
            Assert.DoesNotContain(listed, c => c.Names.Any(n => n.Contains(relative, StringComparison.Ordinal)));
        }

        [Fact]
        public void Two_hosts_give_the_same_port_to_two_apps_but_one_host_never_to_two()
        {
            var docker = TestEngine.Get("docker");
            var local = new PortAllocator(_temp.Store, docker.Engine, docker.Kind) { EngineFor = _ => _remote.Engine };
            var range = new PortRange(21920, 21922);
            var a = local.Request(TestRun.App("a"), range, false, NullOperationLog.Instance, default);
            var b = Remote().Request(TestRun.App("b"), range, false, NullOperationLog.Instance, default);
            var c = local.Request(TestRun.App("c"), range, false, NullOperationLog.Instance, default);
            var d = Remote().Request(TestRun.App("d"), range, false, NullOperationLog.Instance, default);
            Assert.Equal(21920, a.Port);
            Assert.Equal(21920, b.Port);
            Assert.Equal(21921, c.Port);
            Assert.Equal(21921, d.Port);

            // One state, keyed by AppId, each record carrying its endpoint; listed across both hosts.
            var state = _temp.Store.Peek();
            Assert.Equal(RemoteDockerHost.Endpoint, state.Allocations[TestRun.App("b")].EngineEndpoint);
            Assert.Equal(docker.Endpoint, state.Allocations[TestRun.App("a")].EngineEndpoint);
            var listed = local.Get(_ => true, NullOperationLog.Instance, default).ToDictionary(x => x.AppId);
            Assert.Equal(EngineHost.Local, listed[TestRun.App("a")].Host);
            Assert.Equal(RemoteDockerHost.Address, listed[TestRun.App("b")].Host);
            Assert.All(listed.Values, x => Assert.Equal(AllocationStatus.Reserved, x.Status));

            // A remote container on b's port conflicts with b only, not with a on this host.
            _remote.Run("dpt12-remote-squatter", 21920);
            listed = local.Get(_ => true, NullOperationLog.Instance, default).ToDictionary(x => x.AppId);
            Assert.Equal(AllocationStatus.Conflict, listed[TestRun.App("b")].Status);
            Assert.Equal(AllocationStatus.Reserved, listed[TestRun.App("a")].Status);
        }

        [Fact]
        public void An_unreachable_host_lists_its_records_as_Unknown_with_one_error_for_that_host()
        {
            const string gone = "tcp://" + RemoteDockerHost.Address + ":2399"; // nothing listens there: refused at once
            _temp.Store.Update(s =>
            {
                s.Allocations["x"] = new AllocationRecord { AppId = "x", Port = 21930, Engine = EngineKind.Docker, EngineEndpoint = gone };
                s.Allocations["y"] = new AllocationRecord { AppId = "y", Port = 21931, Engine = EngineKind.Docker, EngineEndpoint = gone };
                s.Allocations["z"] = new AllocationRecord { AppId = "z", Port = 21932, Engine = EngineKind.Docker, EngineEndpoint = RemoteDockerHost.Endpoint };
                s.Allocations["here"] = new AllocationRecord { AppId = "here", Port = 21933, Engine = EngineKind.Process };
                return 0;
            }, id => new StateDocument { StateId = id.StateId }, NullOperationLog.Instance, default);

            var local = new PortAllocator(_temp.Store, null, EngineKind.Process)
            {
                EngineFor = e => e == RemoteDockerHost.Endpoint ? _remote.Engine : new ContainerEngine(e, EngineKind.Auto),
            };
            var errors = new List<DyadPortsException>();
            var listed = local.Get(_ => true, NullOperationLog.Instance, errors.Add, default).ToDictionary(x => x.AppId);
            Assert.Equal(AllocationStatus.Unknown, listed["x"].Status);
            Assert.Equal(AllocationStatus.Unknown, listed["y"].Status);
            Assert.Equal(AllocationStatus.Reserved, listed["z"].Status);
            Assert.Equal(AllocationStatus.Reserved, listed["here"].Status);
            var error = Assert.Single(errors);
            Assert.Equal(ErrorIds.EngineUnreachable, error.ErrorId);
            Assert.Equal(gone, error.Target);

            // Aimed at that engine, the command stays terminating.
            using var unreachable = new ContainerEngine(gone, EngineKind.Docker);
            var e = Assert.Throws<DyadPortsException>(() => new PortAllocator(_temp.Store, unreachable, EngineKind.Docker).Test(new[] { 21930 }, NullOperationLog.Instance, default));
            Assert.Equal(ErrorIds.EngineUnreachable, e.ErrorId);
            Assert.True(e.IsTerminating);
        }

        [Fact]
        public void DOCKER_CONTEXT_selects_the_remote_with_its_tls_files()
        {
            var config = Directory.CreateDirectory(Path.Combine(_temp.Directory, ".docker")).FullName;
            Tools.Run(new Dictionary<string, string> { ["DOCKER_CONFIG"] = config, ["DOCKER_HOST"] = null, ["DOCKER_CONTEXT"] = null }, false,
                "docker", "context", "create", "dpt12-hostb", "--docker",
                $"host={RemoteDockerHost.Endpoint},ca={_remote.CertDir}/ca.pem,cert={_remote.CertDir}/cert.pem,key={_remote.CertDir}/key.pem");
            var tlsDir = Path.Combine(config, "contexts", "tls", DockerCliConfig.Sha256("dpt12-hostb"), "docker");
            Assert.True(File.Exists(Path.Combine(tlsDir, "key.pem")), "docker keeps the context's TLS files under contexts/tls/<sha256>/docker");

            var env = new Dictionary<string, string>
            {
                ["HOME"] = _temp.Directory,
                ["DOCKER_CONFIG"] = config,
                ["DOCKER_CONTEXT"] = "dpt12-hostb",
                ["CONTAINERS_CONF"] = Path.Combine(_temp.Directory, "none.conf"),
                ["PODMAN_CONNECTIONS_CONF"] = Path.Combine(_temp.Directory, "none.json"),
                ["DYAD_PORTS_STATE"] = _temp.StatePath,
            };
            var session = new DyadSession(v => env.TryGetValue(v, out var x) ? x : null);
            var log = new RecordingLog();
            var allocator = session.Allocator(EngineKind.Auto, null, log, default);
            Assert.Equal(RemoteDockerHost.Endpoint, allocator.Endpoint);
            Assert.Equal(EngineKind.Docker, allocator.Kind);
            Assert.Contains(log.Verbose, v => v.Contains("docker context 'dpt12-hostb' (DOCKER_CONTEXT=dpt12-hostb)") && v.Contains(Path.Combine(tlsDir, "ca.pem")));

            _remote.Run("dpt12-remote-ctx", 21940);
            var status = allocator.Test(new[] { 21940, 21941 }, NullOperationLog.Instance, default);
            Assert.Equal("container dpt12-remote-ctx", status[0].HeldBy);
            Assert.True(status[1].Available);
        }

        [Fact]
        public void A_server_that_does_not_chain_to_ca_pem_is_refused_and_so_is_plain_http()
        {
            using var wrong = new ContainerEngine(RemoteDockerHost.Endpoint, EngineKind.Docker, new EngineTls(_remote.WrongCaDir, "DOCKER_CERT_PATH"));
            var e = Assert.Throws<DyadPortsException>(() => wrong.Ping(default));
            Assert.Equal(ErrorIds.EngineUnreachable, e.ErrorId);
            Assert.Contains(RemoteDockerHost.Endpoint, e.Message);
            Assert.Contains(Path.Combine(_remote.WrongCaDir, "ca.pem"), e.Message);
            Assert.Contains(Path.Combine(_remote.WrongCaDir, "key.pem"), e.Message);

            using var plain = new ContainerEngine(RemoteDockerHost.Endpoint, EngineKind.Docker);
            var p = Assert.Throws<DyadPortsException>(() => plain.Ping(default));
            Assert.Equal(ErrorIds.EngineUnreachable, p.ErrorId);
            Assert.Contains("DOCKER_TLS_VERIFY", p.Message);

            _remote.Engine.Ping(default); // the right CA is accepted
        }
    }
}
