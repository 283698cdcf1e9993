using System;
using System.Collections.Generic;
using System.Threading;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Fleet;
using Etcdserverpb;
using Xunit;

namespace DyadPorts.Tests.Support
{
    /// <summary>
    /// The one fixture of every etcd test that goes through <see cref="EtcdConnection"/>. The shared 3-member cluster,
    /// the TLS member and the auth member are <see cref="TestEnvironment"/>'s (DYADPORTS_TEST_ETCD[_TLS|_AUTH], from
    /// tools/test-engines.env, which tools/setup-etcd.sh reads too); private clusters for fault tests are
    /// <see cref="EtcdCluster"/>'s, reached with <see cref="Connect(EtcdCluster, string, EtcdOptions)"/>. A test that needs
    /// a cluster and finds it silent fails, never skips (with CI=true too: the message says so). Each test works under a
    /// prefix of its own (<see cref="NewPrefix"/>) and deletes only that prefix.
    /// </summary>
    public static class TestEtcd
    {
        public const string Variable = "DYADPORTS_TEST_ETCD";
        public const string TestMachine = "test-machine-0001";

        /// <summary>The shared cluster's client endpoints, comma-separated (<see cref="TestEnvironment.Etcd"/>).</summary>
        public static string Endpoints { get; } = string.Join(",", TestEnvironment.Etcd);

        private static readonly object Gate = new object();
        private static bool _checked;

        /// <summary>A fresh prefix of this run: /dyadports-test/&lt;run id&gt;/&lt;guid&gt;.</summary>
        public static string NewPrefix() => $"/dyadports-test/{TestRun.Id}/{Guid.NewGuid():N}";

        public static string Location(string prefix) => $"etcd://{Endpoints}{prefix}";

        public static EtcdOptions Options(string operatorName = "tester@test-host", TimeSpan? timeout = null) => new EtcdOptions
        {
            Operator = operatorName,
            MachineId = TestMachine,
            Timeout = timeout ?? EtcdOptions.DefaultTimeout,
        };

        /// <summary>A connection to the test cluster under <paramref name="prefix"/>; fails the test when the cluster is silent.</summary>
        public static EtcdConnection Connect(string prefix, EtcdOptions options = null)
        {
            EnsureAnswers();
            return new EtcdConnection(EtcdLocation.Parse(Location(prefix)), options ?? Options());
        }

        /// <summary>A connection to a private cluster (every member's endpoint) under <paramref name="prefix"/>.</summary>
        [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
        public static EtcdConnection Connect(EtcdCluster cluster, string prefix, EtcdOptions options = null)
        {
            ArgumentNullException.ThrowIfNull(cluster);
            return new EtcdConnection(EtcdLocation.Parse($"etcd://{string.Join(",", cluster.Endpoints)}{prefix}"), options ?? Options());
        }

        /// <summary>The TLS member (https, client certificates): etcds://host:port/prefix.</summary>
        public static string TlsLocation(string prefix) => $"etcds://{TestEnvironment.EtcdTls}{prefix}";

        /// <summary>A file of the TLS member's material (ca.pem, client.pem, client-key.pem, wrong-ca.pem, wrong-client.pem ...).</summary>
        public static string TlsFile(string name) => System.IO.Path.Combine(TestEnvironment.EtcdTlsDir, name);

        /// <summary>The auth member (user dyad may read and write under /dyadports/ only): etcd://host:port/prefix.</summary>
        public static string AuthLocation(string prefix) => $"etcd://{TestEnvironment.EtcdAuth}{prefix}";

        /// <summary>The 0600 file holding <paramref name="user"/>'s password on the auth member.</summary>
        public static string PasswordFile(string user) => System.IO.Path.Combine(TestEnvironment.EtcdAuthDir, user + ".password");

        public static void EnsureAnswers()
        {
            lock (Gate)
            {
                if (_checked) return;
                if (Endpoints.Length == 0) Assert.Fail($"ETCD MISSING: {Variable} names no endpoint (tools/test-engines.env, or the environment). An etcd test never skips.");
                using var cluster = new EtcdConnection(EtcdLocation.Parse(Location("/dyadports-test")), Options(timeout: TimeSpan.FromSeconds(5)));
                try
                {
                    cluster.Retrying((client, d, token) => client.Get(new RangeRequest { Key = EtcdKeys.Bytes("/dyadports-test/probe") }, null, d, token), cluster.NewDeadline(), CancellationToken.None);
                }
                catch (DyadPortsException e)
                {
                    var ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
                    Assert.Fail($"ETCD MISSING: the etcd test cluster does not answer at {Endpoints}{(ci ? " (CI=true: an etcd test without its cluster is a failure of the run's setup)" : " (an etcd test without its cluster fails, it never skips)")}. " +
                        $"Run 'bash tools/setup-etcd.sh' or set {Variable}. ({e.Message})");
                }
                _checked = true;
            }
        }

        /// <summary>Deletes everything under <paramref name="prefix"/> (this test's own keys), best effort.</summary>
        public static void DeletePrefix(string prefix)
        {
            using var cluster = new EtcdConnection(EtcdLocation.Parse(Location("/dyadports-test")), Options(timeout: TimeSpan.FromSeconds(5)));
            try
            {
                var key = prefix + "/";
                cluster.Retrying((client, d, token) => client.Delete(new DeleteRangeRequest { Key = EtcdKeys.Bytes(key), RangeEnd = EtcdKeys.RangeEnd(key) }, null, d, token), cluster.NewDeadline(), CancellationToken.None);
            }
            catch (DyadPortsException)
            {
                // a silent cluster keeps nothing of ours that matters: the prefix is this test's own
            }
        }

        /// <summary>Every key under <paramref name="prefix"/> with the lease it lives under (0: a plain key).</summary>
        public static IReadOnlyDictionary<string, long> Leases(EtcdConnection cluster, string prefix)
        {
            var key = prefix + "/";
            var range = cluster.Retrying((client, d, token) => client.Get(new RangeRequest { Key = EtcdKeys.Bytes(key), RangeEnd = EtcdKeys.RangeEnd(key) }, null, d, token), cluster.NewDeadline(), CancellationToken.None);
            var leases = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var kv in range.Kvs) leases[kv.Key.ToStringUtf8().Substring(prefix.Length)] = kv.Lease;
            return leases;
        }

        /// <summary>Every key under <paramref name="prefix"/> with its value, in key order.</summary>
        public static IReadOnlyList<KeyValuePair<string, string>> Dump(EtcdConnection cluster, string prefix)
        {
            var key = prefix + "/";
            var range = cluster.Retrying((client, d, token) => client.Get(new RangeRequest { Key = EtcdKeys.Bytes(key), RangeEnd = EtcdKeys.RangeEnd(key) }, null, d, token), cluster.NewDeadline(), CancellationToken.None);
            var list = new List<KeyValuePair<string, string>>();
            foreach (var kv in range.Kvs) list.Add(new KeyValuePair<string, string>(kv.Key.ToStringUtf8(), kv.Value.ToStringUtf8()));
            return list;
        }
    }
}
