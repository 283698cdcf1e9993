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
    /// A real engine for the tests: dockerd or podman, started by tools/setup-engines.sh. Endpoints come from
    /// DYADPORTS_TEST_DOCKER / DYADPORTS_TEST_PODMAN, else the sockets that script starts. An engine that does
    /// not answer fails the test (in CI and out of it): a skipped engine test proves nothing.
    /// </summary>
    public sealed class TestEngine
    {
        public const string TestLabel = "dyadports.test";
        public static readonly IEnumerable<object[]> Both = new[] { new object[] { "docker" }, new object[] { "podman" } };

        private static readonly Dictionary<string, TestEngine> Cache = new Dictionary<string, TestEngine>();

        private TestEngine(string name)
        {
            Name = name;
            Kind = name == "docker" ? EngineKind.Docker : EngineKind.Podman;
            Endpoint = Environment.GetEnvironmentVariable(name == "docker" ? "DYADPORTS_TEST_DOCKER" : "DYADPORTS_TEST_PODMAN")
                       ?? (name == "docker" ? "unix:///run/docker.sock" : "unix:///run/podman/podman.sock");
            Image = Environment.GetEnvironmentVariable("DYADPORTS_TEST_IMAGE") is string image && image.Length > 0 ? image : (name == "docker" ? "busybox:local" : "localhost/busybox:local");
            Client = new DockerClientConfiguration(new Uri(Endpoint)).CreateClient();
            Engine = new ContainerEngine(Endpoint, Kind);
        }

        public string Name { get; }
        public EngineKind Kind { get; }
        public string Endpoint { get; }
        public string Image { get; }
        public DockerClient Client { get; }
        public ContainerEngine Engine { get; }

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

        /// <summary>Creates (and unless <paramref name="start"/> is false, starts) a container publishing <paramref name="hostPort"/>.</summary>
        public string Run(string name, int hostPort, bool start = true, string hostIp = null, IDictionary<string, string> labels = null, IList<string> cmd = null, IList<string> capAdd = null)
        {
            Remove(name);
            var key = $"{hostPort}/tcp";
            var allLabels = new Dictionary<string, string> { [TestLabel] = "true", [TestRun.Label] = TestRun.Id };
            if (labels != null) foreach (var l in labels) allLabels[l.Key] = l.Value;
            var created = Client.Containers.CreateContainerAsync(new CreateContainerParameters
            {
                Name = name,
                Image = Image,
                Cmd = cmd ?? new List<string> { "httpd", "-f", "-p", hostPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "-h", "/www" },
                ExposedPorts = new Dictionary<string, EmptyStruct> { [key] = default },
                Labels = allLabels,
                HostConfig = new HostConfig
                {
                    PortBindings = new Dictionary<string, IList<PortBinding>> { [key] = new List<PortBinding> { new PortBinding { HostPort = hostPort.ToString(System.Globalization.CultureInfo.InvariantCulture), HostIP = hostIp ?? "" } } },
                    CapAdd = capAdd,
                },
            }).GetAwaiter().GetResult();
            if (start) Client.Containers.StartContainerAsync(created.ID, new ContainerStartParameters()).GetAwaiter().GetResult();
            return created.ID;
        }

        /// <summary>A container labelled as DyadPorts would label app <paramref name="appId"/>'s preview.</summary>
        public string RunManaged(string appId, int hostPort, bool start = true, string stateId = null)
        {
            var labels = new Dictionary<string, string> { [ContainerSummary.AppIdLabel] = appId, [ContainerSummary.ManagedLabel] = "true" };
            if (stateId != null) labels[ContainerSummary.StateLabel] = stateId;
            return Run("dyad-app-" + appId, hostPort, start, labels: labels);
        }

        public void Stop(string id) =>
            Client.Containers.StopContainerAsync(id, new ContainerStopParameters { WaitBeforeKillSeconds = 0 }).GetAwaiter().GetResult();

        public void Remove(string nameOrId)
        {
            try { Client.Containers.RemoveContainerAsync(nameOrId, new ContainerRemoveParameters { Force = true }).GetAwaiter().GetResult(); }
            catch (DockerContainerNotFoundException) { }
        }

        public ContainerListResponse Find(string name) =>
            Client.Containers.ListContainersAsync(new ContainersListParameters { All = true }).GetAwaiter().GetResult()
                .FirstOrDefault(c => c.Names.Any(n => n.TrimStart('/') == name));

        public IList<ContainerListResponse> All() =>
            Client.Containers.ListContainersAsync(new ContainersListParameters { All = true }).GetAwaiter().GetResult();

        /// <summary>
        /// Removes only what this run created: containers with its run label, and DyadPorts previews of its
        /// prefixed AppIds. Anyone else's container, DyadPorts-labelled or not, survives.
        /// </summary>
        public void CleanUp()
        {
            foreach (var c in All().Where(IsThisRuns)) Remove(c.ID);
        }

        public static bool IsThisRuns(ContainerListResponse c) =>
            c.Labels != null &&
            ((c.Labels.TryGetValue(TestRun.Label, out var run) && run == TestRun.Id) ||
             (c.Labels.TryGetValue(ContainerSummary.ManagedLabel, out var managed) && managed == "true" &&
              c.Labels.TryGetValue(ContainerSummary.AppIdLabel, out var app) && app.StartsWith(TestRun.Prefix, StringComparison.Ordinal)));
    }
}
