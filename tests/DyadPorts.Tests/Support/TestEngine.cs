using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Docker.DotNet;
using Docker.DotNet.Models;
using DyadPorts.Core.Engines;
using Xunit;

namespace DyadPorts.Tests.Support
{
    /// <summary>
    /// A real engine for the tests: dockerd or podman, from the one table (tools/test-engines.env, or
    /// DYADPORTS_TEST_DOCKER / DYADPORTS_TEST_PODMAN), with the project's own test image (<see cref="Image"/>).
    /// An engine that does not answer fails the test (in CI and out of it): a skipped engine test proves nothing.
    /// Every container created here carries <see cref="TestRun.Label"/>=<see cref="TestRun.Id"/>, and
    /// <see cref="CleanUp"/> removes only this run's containers.
    /// </summary>
    public sealed class TestEngine
    {
        public static readonly IEnumerable<object[]> Both = new[] { new object[] { "docker" }, new object[] { "podman" } };

        private static readonly Dictionary<string, TestEngine> Cache = new Dictionary<string, TestEngine>();

        private TestEngine(string name)
        {
            Name = name;
            Kind = name == "docker" ? EngineKind.Docker : EngineKind.Podman;
            Endpoint = name == "docker" ? TestEnvironment.Docker : TestEnvironment.Podman;
            Client = new DockerClientConfiguration(new Uri(Endpoint)).CreateClient();
            Engine = new ContainerEngine(Endpoint, Kind);
        }

        public string Name { get; }
        public EngineKind Kind { get; }
        public string Endpoint { get; }
        public DockerClient Client { get; }
        public ContainerEngine Engine { get; }

        /// <summary>
        /// localhost/dyadports-test:&lt;hash of its tar&gt;, built and content-checked by tools/setup-engines.sh; the same
        /// name in both engines (<see cref="TestEnvironment.Image"/> without an engine at hand).
        /// </summary>
        [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "Read through the engine at hand (engine.Image), like Endpoint and Kind.")]
        public string Image => TestEnvironment.Image
            ?? throw new InvalidOperationException("No test image: run 'sudo bash tools/setup-engines.sh' (it writes the image name to $DYADPORTS_TEST_STATE/image) or set DYADPORTS_TEST_IMAGE.");

        public static TestEngine Get(string name)
        {
            lock (Cache)
            {
                if (!Cache.TryGetValue(name, out var engine)) Cache[name] = engine = new TestEngine(name);
                if (!engine.Engine.Answers(CancellationToken.None))
                {
                    var ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
                    Assert.Fail($"ENGINE MISSING: {name} does not answer at {engine.Endpoint}{(ci ? " (CI=true: an engine test without its engine is a failure)" : "")}. Run 'sudo bash tools/setup-engines.sh' or set DYADPORTS_TEST_{name.ToUpperInvariant()}.");
                }
                return engine;
            }
        }

        /// <summary>The engine if a test already asked for it, without asking the engine anything.</summary>
        public static bool TryGet(string name, out TestEngine engine)
        {
            lock (Cache) return Cache.TryGetValue(name, out engine);
        }

        /// <summary>
        /// Creates (and unless <paramref name="start"/> is false, starts) a container of this run publishing
        /// <paramref name="hostPort"/>. Name it with <see cref="TestRun.App"/>. A container of that name is
        /// replaced only if this run created it.
        /// </summary>
        /// <param name="networkMode">Another network to join (container:&lt;id&gt; shares that container's): then nothing is published.</param>
        public string Run(string name, int hostPort, bool start = true, string hostIp = null, IDictionary<string, string> labels = null, IList<string> cmd = null, IList<string> capAdd = null,
            string networkMode = null)
        {
            var existing = Find(name);
            if (existing != null && IsThisRuns(existing)) RemoveOnly(existing.ID);
            var key = $"{hostPort}/tcp";
            var allLabels = new Dictionary<string, string> { [TestRun.Label] = TestRun.Id };
            if (labels != null) foreach (var l in labels) allLabels[l.Key] = l.Value;
            var created = Client.Containers.CreateContainerAsync(new CreateContainerParameters
            {
                Name = name,
                Image = Image,
                Cmd = cmd ?? new List<string> { "httpd", "-f", "-p", hostPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "-h", "/www" },
                ExposedPorts = networkMode != null ? null : new Dictionary<string, EmptyStruct> { [key] = default },
                Labels = allLabels,
                HostConfig = new HostConfig
                {
                    PortBindings = networkMode != null ? null : new Dictionary<string, IList<PortBinding>> { [key] = new List<PortBinding> { new PortBinding { HostPort = hostPort.ToString(System.Globalization.CultureInfo.InvariantCulture), HostIP = hostIp ?? "" } } },
                    CapAdd = capAdd,
                    NetworkMode = networkMode,
                },
            }).GetAwaiter().GetResult();
            if (start) Client.Containers.StartContainerAsync(created.ID, new ContainerStartParameters()).GetAwaiter().GetResult();
            ViewSettler.Settle(this);
            return created.ID;
        }

        /// <summary>
        /// A container labelled as DyadPorts would label app <paramref name="appId"/>'s preview (dyadports.managed=true,
        /// dyadports.app-id), plus this run's label, and dyadports.state=<paramref name="stateId"/> when given.
        /// Pass a <see cref="TestRun.App"/> id.
        /// </summary>
        public string RunManaged(string appId, int hostPort, bool start = true, string stateId = null)
        {
            var labels = new Dictionary<string, string> { [ContainerSummary.AppIdLabel] = appId, [ContainerSummary.ManagedLabel] = "true" };
            if (stateId != null) labels[ContainerSummary.StateLabel] = stateId;
            return Run("dyad-app-" + appId, hostPort, start, labels: labels);
        }

        /// <summary>
        /// Leaves the container exited, at once: a kill. (A stop with WaitBeforeKillSeconds = 0 sends no t= at all, since
        /// Docker.DotNet drops a zero, and dockerd then waits its default 10 s for the test image's httpd, which as PID 1
        /// ignores SIGTERM.)
        /// </summary>
        public void Stop(string id)
        {
            Client.Containers.KillContainerAsync(id, new ContainerKillParameters()).GetAwaiter().GetResult();
            for (var waited = 0; waited < 100 && Client.Containers.InspectContainerAsync(id).GetAwaiter().GetResult().State.Running; waited++) Thread.Sleep(50);
            ViewSettler.Settle(this);
        }

        /// <summary>Starts a created or stopped container of this run, as another client would.</summary>
        public void Start(string id)
        {
            Client.Containers.StartContainerAsync(id, new ContainerStartParameters()).GetAwaiter().GetResult();
            ViewSettler.Settle(this);
        }

        public void Remove(string nameOrId)
        {
            RemoveOnly(nameOrId);
            ViewSettler.Settle(this);
        }

        private void RemoveOnly(string nameOrId)
        {
            try { Client.Containers.RemoveContainerAsync(nameOrId, new ContainerRemoveParameters { Force = true }).GetAwaiter().GetResult(); }
            catch (DockerContainerNotFoundException) { }
        }

        public ContainerListResponse Find(string name) =>
            All().FirstOrDefault(c => c.Names.Any(n => n.TrimStart('/') == name));

        public IList<ContainerListResponse> All() =>
            Client.Containers.ListContainersAsync(new ContainersListParameters { All = true }).GetAwaiter().GetResult();

        /// <summary>Created by this run: its run label, or a DyadPorts preview of one of this run's AppIds.</summary>
        public static bool IsThisRuns(ContainerListResponse c) => IsThisRuns(c?.Labels == null ? null : new Dictionary<string, string>(c.Labels));

        /// <summary>As <see cref="IsThisRuns(ContainerListResponse)"/>, by a container's labels.</summary>
        public static bool IsThisRuns(IReadOnlyDictionary<string, string> containerLabels)
        {
            var labels = containerLabels ?? new Dictionary<string, string>();
            if (labels.TryGetValue(TestRun.Label, out var run) && run == TestRun.Id) return true;
            return labels.TryGetValue(ContainerSummary.ManagedLabel, out var managed) && managed == "true"
                && labels.TryGetValue(ContainerSummary.AppIdLabel, out var app) && app != null && app.StartsWith(TestRun.Prefix, StringComparison.Ordinal);
        }

        /// <summary>Removes what this run created (<see cref="IsThisRuns"/>), and nothing else.</summary>
        public void CleanUp()
        {
            foreach (var c in All().Where(IsThisRuns)) RemoveOnly(c.ID);
            ViewSettler.Settle(this);
        }
    }
}
