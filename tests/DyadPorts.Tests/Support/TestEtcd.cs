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
    /// The etcd test cluster: DYADPORTS_TEST_ETCD (comma-separated host:port, default the shared 3-member cluster that
    /// tools/setup-etcd.sh starts). A test that needs it and finds it silent fails, never skips. Each test works under a
    /// prefix of its own (<see cref="NewPrefix"/>) and deletes only that prefix.
    /// </summary>
    public static class TestEtcd
    {
        public const string Variable = "DYADPORTS_TEST_ETCD";
        public const string DefaultEndpoints = "127.0.0.1:20379,127.0.0.1:20389,127.0.0.1:20399";
        public const string TestMachine = "test-machine-0001";

        public static string Endpoints { get; } = Environment.GetEnvironmentVariable(Variable) is string e && e.Trim().Length > 0 ? e.Trim() : DefaultEndpoints;

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

        public static void EnsureAnswers()
        {
            lock (Gate)
            {
                if (_checked) return;
                using var cluster = new EtcdConnection(EtcdLocation.Parse(Location("/dyadports-test")), Options(timeout: TimeSpan.FromSeconds(5)));
                try
                {
                    cluster.Retrying((client, d, token) => client.Get(new RangeRequest { Key = EtcdKeys.Bytes("/dyadports-test/probe") }, null, d, token), cluster.NewDeadline(), CancellationToken.None);
                }
                catch (DyadPortsException e)
                {
                    var ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
                    Assert.Fail($"ETCD MISSING: the etcd test cluster does not answer at {Endpoints}{(ci ? " (CI=true: an etcd test without its cluster is a failure)" : "")}. " +
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
