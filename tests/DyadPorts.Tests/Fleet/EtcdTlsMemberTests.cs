using System;
using System.IO;
using System.Linq;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Fleet
{
    /// <summary>
    /// The TLS member (DYADPORTS_TEST_ETCD_TLS, https with --client-cert-auth): the CA and client certificate
    /// tools/setup-etcd.sh made get in; a client trusting another CA, a client with no certificate, and a client
    /// certificate of another CA do not. Each refusal is checked next to the same call with the right material, so
    /// it is the material that is refused, not a member that is down. Keys under /dyadports-test/&lt;run id&gt;/tls-member/.
    /// </summary>
    public sealed class EtcdTlsMemberTests : IDisposable
    {
        private static readonly string Prefix = $"/dyadports-test/{TestRun.Id}/tls-member/";
        private static readonly string[] Endpoint = { "https://" + TestEnvironment.EtcdTls };
        private static readonly string[] Right = { "--cacert", Tls("ca.pem"), "--cert", Tls("client.pem"), "--key", Tls("client-key.pem") };

        public void Dispose() => Put(Right, "del", "--prefix", Prefix).EnsureSuccess();

        [UnixFact]
        public void The_right_CA_and_client_certificate_put_and_get()
        {
            Put(Right, "put", Prefix + "k", "tls").EnsureSuccess();
            Assert.Equal("tls", Put(Right, "get", "--print-value-only", Prefix + "k").EnsureSuccess().Output.Trim());
        }

        [UnixFact]
        public void A_client_trusting_another_CA_is_refused()
        {
            AssertRefused("--cacert", Tls("wrong-ca.pem"), "--cert", Tls("client.pem"), "--key", Tls("client-key.pem"));
        }

        [UnixFact]
        public void A_client_without_a_certificate_is_refused()
        {
            AssertRefused("--cacert", Tls("ca.pem"));
        }

        [UnixFact]
        public void A_client_certificate_of_another_CA_is_refused()
        {
            AssertRefused("--cacert", Tls("ca.pem"), "--cert", Tls("wrong-client.pem"), "--key", Tls("wrong-client-key.pem"));
        }

        private static void AssertRefused(params string[] material)
        {
            var refused = Put(material, "put", Prefix + "refused", "x");
            Assert.False(refused.Succeeded, $"the member accepted: {refused}");
            Put(Right, "put", Prefix + "accepted", "y").EnsureSuccess();
            Assert.Equal("", Put(Right, "get", "--print-value-only", Prefix + "refused").EnsureSuccess().Output.Trim());
        }

        private static EtcdctlResult Put(string[] material, params string[] command) =>
            Etcdctl.Run(Endpoint, material.Concat(new[] { "--dial-timeout=2s", "--command-timeout=3s" }).Concat(command).ToArray());

        private static string Tls(string file) => Path.Combine(TestEnvironment.EtcdTlsDir, file);
    }
}
