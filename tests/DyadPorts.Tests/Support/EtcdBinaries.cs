using System;
using System.IO;

namespace DyadPorts.Tests.Support
{
    /// <summary>
    /// etcd and etcdctl as tools/setup-etcd.sh unpacks them (DYADPORTS_TEST_ETCD_BIN, from the one table). A missing
    /// binary fails the test that needs it, with the way to get it: an etcd test never passes or skips silently.
    /// </summary>
    public static class EtcdBinaries
    {
        public static string Bin => TestEnvironment.EtcdBin;
        public static string Etcd => Require("etcd");
        public static string Etcdctl => Require("etcdctl");

        private static string Require(string name)
        {
            var path = string.IsNullOrEmpty(Bin) ? name : Path.Combine(Bin, name);
            if (File.Exists(path)) return path;
            var ci = Environment.GetEnvironmentVariable("CI") == "true" ? " CI=true: this is a failure of the run's setup." : "";
            throw new InvalidOperationException(
                $"{name} is not at '{path}' (DYADPORTS_TEST_ETCD_BIN, tools/test-engines.env). Run 'bash tools/setup-etcd.sh' as root " +
                $"(build.ps1 Test and .ci/run do): it unpacks Debian's etcd there and starts the test members.{ci}");
        }
    }
}
