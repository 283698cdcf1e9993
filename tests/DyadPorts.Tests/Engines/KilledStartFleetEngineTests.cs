using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using System.Threading;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Fleet;
using DyadPorts.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace DyadPorts.Tests.Engines
{
    /// <summary>
    /// An operator killed with kill -9 mid-start costs nothing beyond its leases' life (issue 17 items 5 and 10). A real
    /// Start-DyadPreview in a child pwsh, on a fresh prefix of the shared etcd cluster with a 3 s lease TTL
    /// (DYAD_PORTS_ETCD_LEASE_TTL), reaches the engine through a <see cref="HoldingEngineProxy"/> that holds its container
    /// start: the reservation (app key and port claim, under the operator's session lease) and the app lock (under a lease
    /// of its own) are written, the container is created, the preview is not recorded. The child is killed by its pid.
    /// Then the app's keys go within the documented bound, measured from the kill (docs/FLEET.md: up to about 2 × TTL +
    /// 2 × election timeout), and another operator (a second child, straight to the engine) starts the same app on the
    /// same port: the dead start's container, created and never started, is the app's own leftover, which the new start
    /// removes as a stopped preview of the app and journals as replaced. Real dockerd and podman; ports 28440-28459.
    /// </summary>
    [Collection(EngineCollection.Name)]
    public sealed class KilledStartFleetEngineTests : IDisposable
    {
        private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(3);

        /// <summary>The shared cluster runs at etcd's default election timeout (tools/setup-etcd.sh sets none).</summary>
        private static readonly TimeSpan ElectionTimeout = TimeSpan.FromSeconds(1);

        /// <summary>docs/FLEET.md: a dead holder's lease goes within about 2 × TTL + 2 × election timeout (a leader change included).</summary>
        private static readonly TimeSpan Bound = Ttl + Ttl + ElectionTimeout + ElectionTimeout;

        /// <summary>One operator's start, its verbose lines written as they come (a failure's message shows how far it got).</summary>
        private const string Script = """
            $ErrorActionPreference = 'Stop'
            Import-Module $env:DYADPORTS_CHILD_MODULE
            $preview = $null
            Start-DyadPreview -AppId $env:KILL9_APP -Path $env:KILL9_PATH -Image $env:KILL9_IMAGE -Command $env:KILL9_COMMAND `
                -PortRange $env:KILL9_RANGE -Engine $env:KILL9_ENGINE -EngineEndpoint $env:KILL9_ENDPOINT -TimeoutSec 60 -Verbose 4>&1 |
                ForEach-Object { if ($_ -is [System.Management.Automation.VerboseRecord]) { [Console]::Out.WriteLine("VERBOSE $($_.Message)") } else { $preview = $_ } }
            'PREVIEW ' + ($preview | Select-Object AppId, Port, ContainerId, State | ConvertTo-Json -Compress)
            """;

        private readonly EngineFixture _engines;
        private readonly ITestOutputHelper _output;
        private readonly PreviewScenario _scenario = new PreviewScenario("started again after a kill -9");
        private readonly string _prefix = TestEtcd.NewPrefix();
        private readonly EtcdLedger _ledger;
        private readonly EtcdConnection _raw;

        public KilledStartFleetEngineTests(EngineFixture engines, ITestOutputHelper output)
        {
            _engines = engines;
            _output = output;
            var options = TestEtcd.Options("observer@test-host");
            options.MachineId = FleetIdentity.MachineId(); // the children's machine: their records are this machine's
            _ledger = new EtcdLedger(TestEtcd.Connect(_prefix, options), null, ownsCluster: true);
            _raw = TestEtcd.Connect(_prefix);
        }

        public void Dispose()
        {
            _scenario.Dispose();
            TestEtcd.DeletePrefix(_prefix);
            _ledger.Dispose();
            _raw.Dispose();
        }

        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void An_operator_killed_mid_start_frees_the_app_within_the_lease_bound_and_another_starts_it_on_the_same_port(string name)
        {
            var engine = _engines.Get(name);
            engine.CleanUp();
            var first = name == "docker" ? 28440 : 28450;
            var range = $"{first}-{first + 4}";
            var appId = TestRun.App("kill9-" + name);
            var appKey = "/apps/" + Uri.EscapeDataString(appId);
            var lockKey = "/locks/app/" + Uri.EscapeDataString(appId);
            var environment = new Dictionary<string, string>
            {
                ["DYAD_PORTS_STATE"] = TestEtcd.Location(_prefix),
                ["KILL9_APP"] = appId,
                ["KILL9_PATH"] = _scenario.AppFolder,
                ["KILL9_IMAGE"] = engine.Image,
                ["KILL9_COMMAND"] = PreviewScenario.ContainerHttpd,
                ["KILL9_RANGE"] = range,
                ["KILL9_ENGINE"] = engine.Kind.ToString(),
            };
            // Only what this test sets applies: no other etcd setting, and no AUTO_KILL_PORT, from the test process.
            foreach (var variable in new[] { EtcdOptions.CaCertVariable, EtcdOptions.CertVariable, EtcdOptions.KeyVariable, EtcdOptions.UserVariable, EtcdOptions.PasswordFileVariable, EtcdOptions.TimeoutVariable, "AUTO_KILL_PORT" })
            {
                environment[variable] = null;
            }

            string deadContainer;
            string claimKey;
            long deadClaim;
            TimeSpan freeAfter;
            using (var proxy = new HoldingEngineProxy(engine.Endpoint))
            {
                // 1. An operator starts the app through the proxy, which holds the engine's container start.
                environment["KILL9_ENDPOINT"] = proxy.Endpoint;
                environment[EtcdOptions.LeaseTtlVariable] = Ttl.TotalSeconds.ToString(CultureInfo.InvariantCulture);
                using var operatorA = ChildPwsh.Start(Script, environment);
                deadContainer = proxy.WaitForHeldStart(TimeSpan.FromSeconds(40), () => operatorA.HasExited);
                Assert.True(deadContainer != null, $"the start never reached the engine's start call. {proxy.Connections} connection(s), requests: {string.Join(" | ", proxy.Requests)}; {operatorA}");

                // Mid-way: the reservation (app key and port claim) under the operator's session lease, the app lock
                // under a lease of its own, the container created, the preview not recorded.
                var leases = TestEtcd.Leases(_raw, _prefix);
                Assert.True(leases.TryGetValue(appKey, out var reservationLease), $"no reservation of {appId}: {string.Join(", ", leases.Keys)}");
                Assert.NotEqual(0, reservationLease);
                claimKey = Assert.Single(leases.Keys, k => k.StartsWith("/ports/", StringComparison.Ordinal) && k.EndsWith("/" + first.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
                Assert.Equal(reservationLease, leases[claimKey]);
                Assert.True(leases.TryGetValue(lockKey, out var lockLease), $"no app lock of {appId}: {string.Join(", ", leases.Keys)}");
                Assert.NotEqual(0, lockLease);
                var reservation = _ledger.Read(NullOperationLog.Instance, default).Allocations[appId];
                Assert.True(reservation.Provisional);
                Assert.Null(reservation.ContainerId);
                Assert.Equal(first, reservation.Port);
                var created = engine.Find("dyad-app-" + appId);
                Assert.NotNull(created);
                Assert.StartsWith(deadContainer, created.ID, StringComparison.Ordinal);
                Assert.Equal("created", created.State);
                deadClaim = Assert.NotNull(reservation.ClaimRevision);
                Assert.Equal(deadClaim.ToString(CultureInfo.InvariantCulture), created.Labels[ContainerSummary.ClaimLabel]); // it carries the dead start's claim

                // 2. kill -9 of the operator, by its pid. Right after it the keys are still there: only their leases end them.
                var sinceKill = Stopwatch.StartNew();
                operatorA.Kill();
                var afterKill = TestEtcd.Leases(_raw, _prefix);
                var stillThere = sinceKill.Elapsed;
                Assert.True(afterKill.ContainsKey(appKey) && afterKill.ContainsKey(claimKey) && afterKill.ContainsKey(lockKey),
                    $"the app's keys went with the kill itself ({stillThere.TotalSeconds:0.00} s after it), not with their leases: {string.Join(", ", afterKill.Keys)}");

                // 3. They go within the bound, measured from the kill.
                var left = new[] { appKey, claimKey, lockKey };
                while (left.Length > 0 && sinceKill.Elapsed < Bound + TimeSpan.FromSeconds(10))
                {
                    Thread.Sleep(100);
                    var keys = TestEtcd.Leases(_raw, _prefix);
                    left = left.Where(keys.ContainsKey).ToArray();
                }
                freeAfter = sinceKill.Elapsed;
                Assert.Empty(left);
                var line = $"{DateTimeOffset.UtcNow:u} {name}: TTL {Ttl.TotalSeconds:0} s, bound {Bound.TotalSeconds:0} s; keys present {stillThere.TotalSeconds:0.00} s after the kill; reservation, claim and app lock gone {freeAfter.TotalSeconds:0.00} s after the kill";
                _output.WriteLine(line);
                Assert.True(freeAfter <= Bound, $"the app's keys outlived the documented bound ({Bound.TotalSeconds:0} s): {line}");
            }

            // 4. Another operator, straight to the engine, starts the same app: on the same port, Active.
            environment["KILL9_ENDPOINT"] = engine.Endpoint;
            environment[EtcdOptions.LeaseTtlVariable] = null;
            using var operatorB = ChildPwsh.Start(Script, environment);
            Assert.True(operatorB.WaitForExit(TimeSpan.FromSeconds(180)), $"the second start did not finish: {operatorB}");
            Assert.True(operatorB.ExitCode == 0, $"the second start failed: {operatorB}");
            var previewLine = operatorB.Output.Split('\n').Select(l => l.Trim()).Last(l => l.StartsWith("PREVIEW ", StringComparison.Ordinal));
            using var preview = JsonDocument.Parse(previewLine.Substring("PREVIEW ".Length));
            Assert.Equal(first, preview.RootElement.GetProperty("Port").GetInt32());
            var newContainer = preview.RootElement.GetProperty("ContainerId").GetString();
            Assert.Equal(_scenario.Page, PreviewScenario.Get(first));

            var allocator = new PortAllocator(_ledger, new EngineSnapshots(engine.Engine, engine.Kind));
            var seen = Assert.Single(allocator.Get(id => id == appId, NullOperationLog.Instance, default));
            Assert.Equal(AllocationStatus.Active, seen.Status);
            Assert.Equal(first, seen.Port);
            var record = _ledger.Read(NullOperationLog.Instance, default).Allocations[appId];
            Assert.False(record.Provisional);
            Assert.Equal(newContainer, record.ContainerId);
            Assert.True(record.ClaimRevision > deadClaim, $"the second start runs under a claim of its own ({record.ClaimRevision}), made after the dead one ({deadClaim}) expired");
            var leasesNow = TestEtcd.Leases(_raw, _prefix);
            Assert.Equal(0, leasesNow[appKey]); // a finished start's record is plain
            Assert.False(leasesNow.ContainsKey(lockKey));

            // 5. The dead start's container (created, never started) was the app's own leftover: the new start removed it
            // as a stopped preview of the app and journaled it as replaced; it did not block the name or the port.
            Assert.DoesNotContain(engine.All(), c => c.ID.StartsWith(deadContainer, StringComparison.Ordinal));
            Assert.False(newContainer.StartsWith(deadContainer, StringComparison.Ordinal));
            var replaced = Assert.Single(_ledger.History(NullOperationLog.Instance, default), e => e.Kind == PortEventKind.PreviewReplaced && e.AppId == appId);
            Assert.StartsWith(deadContainer, replaced.ContainerId, StringComparison.Ordinal);
            Assert.Equal("created", replaced.Reason);
            _output.WriteLine($"{name}: second start on port {first}, container {newContainer[..12]}; the dead start's {deadContainer[..Math.Min(12, deadContainer.Length)]} journaled as {replaced.Kind} ({replaced.Reason})");
        }
    }
}
