using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.Versioning;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Fleet
{
    /// <summary>
    /// The auth member (DYADPORTS_TEST_ETCD_AUTH, etcd auth enabled by tools/setup-etcd.sh): user dyad, with the
    /// password in its 0600 file, reads and writes under /dyadports/ and nowhere else; a wrong password and no user
    /// are refused. The password goes in ETCDCTL_USER, never in an argument. Keys under
    /// /dyadports/dyadports-test/&lt;run id&gt;/auth-member/, deleted afterwards.
    /// </summary>
    [UnsupportedOSPlatform("windows")]
    public sealed class EtcdAuthMemberTests : IDisposable
    {
        private static readonly string Prefix = $"/dyadports/dyadports-test/{TestRun.Id}/auth-member/";
        private static readonly string Outside = $"/dyadports-test/{TestRun.Id}/auth-member/";
        private static readonly string[] Endpoint = { TestEnvironment.EtcdAuth };

        public void Dispose() => As("dyad", Password("dyad"), "del", "--prefix", Prefix).EnsureSuccess();

        [UnixFact]
        public void The_passwords_are_in_files_only_their_owner_reads()
        {
            foreach (var user in new[] { "root", "dyad" })
            {
                var file = Path.Combine(TestEnvironment.EtcdAuthDir, user + ".password");
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            }
        }

        [UnixFact]
        public void User_dyad_puts_and_gets_under_the_dyadports_prefix()
        {
            As("dyad", Password("dyad"), "put", Prefix + "k", "auth").EnsureSuccess();
            Assert.Equal("auth", As("dyad", Password("dyad"), "get", "--print-value-only", Prefix + "k").EnsureSuccess().Output.Trim());
        }

        [UnixFact]
        public void User_dyad_cannot_put_outside_the_dyadports_prefix()
        {
            var outside = As("dyad", Password("dyad"), "put", Outside + "k", "x");
            Assert.False(outside.Succeeded, $"a put outside /dyadports/ succeeded: {outside}");
            Assert.Contains("permission denied", outside.Error, StringComparison.Ordinal);
        }

        [UnixFact]
        public void A_wrong_password_is_refused()
        {
            var wrong = As("dyad", Password("dyad") + "-wrong", "put", Prefix + "k", "x");
            Assert.False(wrong.Succeeded, $"a wrong password was accepted: {wrong}");
            Assert.Contains("authentication failed", wrong.Error, StringComparison.Ordinal);
        }

        [UnixFact]
        public void No_user_is_refused()
        {
            var anonymous = Etcdctl.Run(Endpoint, "--command-timeout=3s", "put", Prefix + "k", "x");
            Assert.False(anonymous.Succeeded, $"an anonymous put was accepted: {anonymous}");
            Assert.Contains("user name is empty", anonymous.Error, StringComparison.Ordinal);
        }

        private static EtcdctlResult As(string user, string password, params string[] command) =>
            Etcdctl.Run(Endpoint, new[] { "--command-timeout=3s" }.Concat(command), new Dictionary<string, string> { ["ETCDCTL_USER"] = user + ":" + password }, Etcdctl.DefaultTimeout);

        private static string Password(string user) => File.ReadAllText(Path.Combine(TestEnvironment.EtcdAuthDir, user + ".password")).Trim();
    }
}
