using System;
using System.Collections.Generic;
using System.IO;

namespace DyadPorts.Tests.Support
{
    /// <summary>
    /// The one table of engines and image (tools/test-engines.env), read the same way as tools/TestEnv.ps1 and
    /// tools/setup-engines.sh: a variable set in the environment wins over the table's line.
    /// </summary>
    public static class TestEnvironment
    {
        private static readonly Dictionary<string, string> Table = ReadTable();

        public static string Docker => Get("DYADPORTS_TEST_DOCKER");
        public static string Podman => Get("DYADPORTS_TEST_PODMAN");
        public static string State => Get("DYADPORTS_TEST_STATE");

        /// <summary>The shared 3-member etcd cluster's client endpoints (host:port, plain http), from DYADPORTS_TEST_ETCD.</summary>
        public static IReadOnlyList<string> Etcd => (Get("DYADPORTS_TEST_ETCD") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        /// <summary>The TLS member (host:port; https with client certificates, the material in <see cref="EtcdTlsDir"/>).</summary>
        public static string EtcdTls => Get("DYADPORTS_TEST_ETCD_TLS");
        /// <summary>The member with etcd auth on (host:port; user dyad, readwrite on /dyadports/; passwords in <see cref="EtcdAuthDir"/>).</summary>
        public static string EtcdAuth => Get("DYADPORTS_TEST_ETCD_AUTH");
        /// <summary>The folder holding etcd and etcdctl (tools/setup-etcd.sh unpacks them there).</summary>
        public static string EtcdBin => Get("DYADPORTS_TEST_ETCD_BIN");
        /// <summary>ca.pem, server.pem/-key.pem, client.pem/-key.pem, wrong-ca.pem (an unrelated CA), wrong-client.pem/-key.pem (a client certificate of that CA).</summary>
        public static string EtcdTlsDir => Path.Combine(State, "etcd", "tls");
        /// <summary>root.password and dyad.password (0600) of the auth member.</summary>
        public static string EtcdAuthDir => Path.Combine(State, "etcd", "auth");

        /// <summary>DYADPORTS_TEST_IMAGE (build.ps1), else the name tools/setup-engines.sh wrote to $STATE/image; null when neither exists.</summary>
        public static string Image
        {
            get
            {
                var image = Environment.GetEnvironmentVariable("DYADPORTS_TEST_IMAGE");
                if (!string.IsNullOrWhiteSpace(image)) return image.Trim();
                var file = State == null ? null : Path.Combine(State, "image");
                return file != null && File.Exists(file) ? File.ReadAllText(file).Trim() : null;
            }
        }

        public static string Get(string key)
        {
            var value = Environment.GetEnvironmentVariable(key);
            if (!string.IsNullOrEmpty(value)) return value;
            return Table.TryGetValue(key, out var fromTable) ? fromTable : null;
        }

        private static Dictionary<string, string> ReadTable()
        {
            var table = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            {
                var file = Path.Combine(dir.FullName, "tools", "test-engines.env");
                if (!File.Exists(file)) continue;
                foreach (var line in File.ReadAllLines(file))
                {
                    var eq = line.IndexOf('=');
                    if (line.StartsWith('#') || eq <= 0) continue;
                    table[line.Substring(0, eq).Trim()] = line.Substring(eq + 1).Trim();
                }
                break;
            }
            return table;
        }
    }
}
