using System;
using System.Diagnostics;
using System.Runtime.Versioning;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Fleet
{
    /// <summary>
    /// What the fault tests rely on, shown on private clusters (<see cref="EtcdCluster"/>): a killed leader is
    /// replaced and writes go on; without quorum a bounded put fails; a restarted member brings quorum back with
    /// the data kept. Ports 20780-20785 and 20790-20795 (the private range is 20600-20799).
    /// </summary>
    [UnsupportedOSPlatform("windows")]
    public sealed class EtcdClusterFaultTests
    {
        private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

        [UnixFact]
        public void Killing_the_leader_elects_another_and_a_put_succeeds_within_the_bound()
        {
            using var cluster = EtcdCluster.Start(3, 20780);
            var leader = cluster.WaitForLeader(Bound);
            Etcdctl.Run(cluster.Endpoints, "put", "/fault/before", "1").EnsureSuccess();

            cluster.Kill(leader);
            var clock = Stopwatch.StartNew();
            Assert.False(cluster.IsRunning(leader));
            var next = cluster.WaitForLeader(Bound, except: leader);
            Etcdctl.Run(cluster.RunningEndpoints, "--command-timeout=5s", "put", "/fault/after", "2").EnsureSuccess();
            clock.Stop();

            Assert.NotEqual(leader, next);
            Assert.True(clock.Elapsed < Bound, $"a new leader and a put took {clock.Elapsed.TotalSeconds:0.0} s");
            Assert.Equal("1", Etcdctl.Run(cluster.RunningEndpoints, "get", "--print-value-only", "/fault/before").EnsureSuccess().Output.Trim());
            Assert.Equal("2", Etcdctl.Run(cluster.RunningEndpoints, "get", "--print-value-only", "/fault/after").EnsureSuccess().Output.Trim());
        }

        [UnixFact]
        public void Without_quorum_a_put_fails_within_its_timeout_and_a_restarted_member_brings_puts_back()
        {
            using var cluster = EtcdCluster.Start(3, 20790);
            Etcdctl.Run(cluster.Endpoints, "put", "/fault/before", "1").EnsureSuccess();

            cluster.Kill(0);
            cluster.Kill(1);
            var lost = Etcdctl.Run(new[] { cluster.Endpoints[2] }, new[] { "--command-timeout=2s", "put", "/fault/no-quorum", "x" }, null, TimeSpan.FromSeconds(30));
            Assert.False(lost.Succeeded, $"a put without quorum succeeded: {lost}");
            Assert.True(lost.Elapsed < TimeSpan.FromSeconds(6), $"a put with --command-timeout=2s took {lost.Elapsed.TotalSeconds:0.0} s to fail");

            cluster.Restart(1);
            cluster.WaitHealthy(TimeSpan.FromSeconds(20));
            Etcdctl.Run(cluster.RunningEndpoints, "--command-timeout=5s", "put", "/fault/back", "2").EnsureSuccess();
            Assert.Equal("1", Etcdctl.Run(new[] { cluster.Endpoints[1] }, "get", "--print-value-only", "/fault/before").EnsureSuccess().Output.Trim());
            Assert.Equal("2", Etcdctl.Run(new[] { cluster.Endpoints[2] }, "get", "--print-value-only", "/fault/back").EnsureSuccess().Output.Trim());
        }
    }
}
