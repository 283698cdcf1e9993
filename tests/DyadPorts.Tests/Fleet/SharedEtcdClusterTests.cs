using System;
using System.Linq;
using System.Text.Json;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Fleet
{
    /// <summary>
    /// The shared 3-member cluster tools/setup-etcd.sh keeps (DYADPORTS_TEST_ETCD) answers, with the three members it
    /// names, and stores what is put. Keys under /dyadports-test/&lt;run id&gt;/shared-cluster/ only, deleted afterwards.
    /// </summary>
    public sealed class SharedEtcdClusterTests : IDisposable
    {
        private static readonly string Prefix = $"/dyadports-test/{TestRun.Id}/shared-cluster/";

        public void Dispose() => Etcdctl.Run(TestEnvironment.Etcd, "--command-timeout=5s", "del", "--prefix", Prefix).EnsureSuccess();

        [UnixFact]
        public void The_shared_cluster_answers_with_its_three_members_healthy()
        {
            var endpoints = TestEnvironment.Etcd;
            Assert.Equal(3, endpoints.Count);
            Etcdctl.Run(endpoints, "--command-timeout=5s", "endpoint", "health").EnsureSuccess();

            using var list = JsonDocument.Parse(Etcdctl.Run(endpoints, "member", "list", "-w", "json").EnsureSuccess().Output);
            var members = list.RootElement.GetProperty("members").EnumerateArray().ToList();
            Assert.Equal(new[] { "dp1", "dp2", "dp3" }, members.Select(m => m.GetProperty("name").GetString()).OrderBy(n => n, StringComparer.Ordinal));
            var clientUrls = members.SelectMany(m => m.GetProperty("clientURLs").EnumerateArray().Select(u => u.GetString())).OrderBy(u => u, StringComparer.Ordinal);
            Assert.Equal(endpoints.Select(e => "http://" + e).OrderBy(u => u, StringComparer.Ordinal), clientUrls);
        }

        [UnixFact]
        public void A_put_round_trips_under_the_run_prefix_through_every_member()
        {
            var key = Prefix + "round-trip";
            var value = Guid.NewGuid().ToString("N");
            Etcdctl.Run(TestEnvironment.Etcd, "--command-timeout=5s", "put", key, value).EnsureSuccess();

            foreach (var endpoint in TestEnvironment.Etcd)
            {
                var got = Etcdctl.Run(new[] { endpoint }, "--command-timeout=5s", "get", "--print-value-only", key).EnsureSuccess();
                Assert.Equal(value, got.Output.Trim());
            }
            var keys = Etcdctl.Run(TestEnvironment.Etcd, "get", "--prefix", "--keys-only", Prefix).EnsureSuccess();
            Assert.Equal(new[] { key }, keys.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }
    }
}
