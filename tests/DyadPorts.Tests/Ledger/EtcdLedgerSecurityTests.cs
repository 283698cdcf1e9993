using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.Versioning;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Session;
using DyadPorts.Core.State;
using DyadPorts.Fleet;
using DyadPorts.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace DyadPorts.Tests.Ledger
{
    /// <summary>
    /// <see cref="EtcdLedger"/> on the TLS member (client certificates) and the auth member (user dyad, readwrite on
    /// /dyadports/ only) that tools/setup-etcd.sh keeps. The right material works; everything else is
    /// StateStoreRefused naming the reason, never StateStoreUnavailable after a wait. Each test's prefix is deleted.
    /// </summary>
    [UnsupportedOSPlatform("windows")]
    public sealed class EtcdLedgerSecurityTests : IDisposable
    {
        private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);
        private readonly ITestOutputHelper _output;
        private readonly string _prefix = TestEtcd.NewPrefix();
        private readonly List<IDisposable> _opened = new List<IDisposable>();
        private string _tempFile;

        public EtcdLedgerSecurityTests(ITestOutputHelper output) => _output = output;

        public void Dispose()
        {
            // Only the right material deletes: the prefix of this test on each member it may have written to.
            foreach (var (location, options) in new[] { (TestEtcd.TlsLocation(_prefix), Tls("ca.pem", "client.pem", "client-key.pem")), (TestEtcd.AuthLocation("/dyadports" + _prefix), Auth("dyad", TestEtcd.PasswordFile("dyad"))) })
            {
                using var cluster = new EtcdConnection(EtcdLocation.Parse(location), options);
                var key = cluster.Location.Prefix + "/";
                try
                {
                    cluster.Retrying((c, d, t) => c.Delete(new Etcdserverpb.DeleteRangeRequest { Key = EtcdKeys.Bytes(key), RangeEnd = EtcdKeys.RangeEnd(key) }, null, d, t), cluster.NewDeadline(), default);
                }
                catch (DyadPortsException)
                {
                    // a member that is down keeps nothing that matters: the prefix is this test's own
                }
            }
            foreach (var d in _opened) d.Dispose();
            if (_tempFile != null) File.Delete(_tempFile);
        }

        private static EtcdOptions Tls(string ca, string cert, string key)
        {
            var options = TestEtcd.Options(timeout: Bound);
            options.CaCertFile = ca == null ? null : TestEtcd.TlsFile(ca);
            options.CertFile = cert == null ? null : TestEtcd.TlsFile(cert);
            options.KeyFile = key == null ? null : TestEtcd.TlsFile(key);
            return options;
        }

        private static EtcdOptions Auth(string user, string passwordFile)
        {
            var options = TestEtcd.Options(timeout: Bound);
            options.User = user;
            options.PasswordFile = passwordFile;
            return options;
        }

        private EtcdLedger Open(string location, EtcdOptions options)
        {
            var ledger = new EtcdLedger(new EtcdConnection(EtcdLocation.Parse(location), options), null, ownsCluster: true);
            _opened.Add(ledger);
            return ledger;
        }

        private static int Allocate(StateDocument state, string appId)
        {
            state.Allocations[appId] = new AllocationRecord { AppId = appId, Port = 26500 + state.Allocations.Count, Engine = EngineKind.Process, AllocatedAt = DateTimeOffset.UtcNow };
            state.Record(new PortEvent { Kind = PortEventKind.Allocated, AppId = appId, Port = 26500 });
            return state.Allocations[appId].Port;
        }

        /// <summary>The refusal, within the bound (a refusal is not waited out as if the member were down).</summary>
        private DyadPortsException Refused(string location, EtcdOptions options)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var e = Assert.Throws<DyadPortsException>(() =>
            {
                using var ledger = new EtcdLedger(new EtcdConnection(EtcdLocation.Parse(location), options), null, ownsCluster: true);
                ledger.Transact((s, _) => Allocate(s, "refused"), NullOperationLog.Instance, default);
            });
            _output.WriteLine($"{clock.Elapsed.TotalSeconds:0.00} s: {e.ErrorId}: {e.Message}");
            Assert.Equal(ErrorIds.StateStoreRefused, e.ErrorId);
            Assert.True(e.IsTerminating);
            Assert.True(clock.Elapsed < Bound + TimeSpan.FromSeconds(1), $"the refusal took {clock.Elapsed.TotalSeconds:0.0} s");
            return e;
        }

        [UnixFact]
        public void Tls_with_the_right_CA_and_client_certificate_works()
        {
            var ledger = Open(TestEtcd.TlsLocation(_prefix), Tls("ca.pem", "client.pem", "client-key.pem"));
            ledger.Transact((s, _) => Allocate(s, "a"), NullOperationLog.Instance, default);
            Assert.Equal(new[] { "a" }, ledger.Read(NullOperationLog.Instance, default).Allocations.Keys);
        }

        /// <summary>
        /// The session's fleet ledgers (<see cref="FleetLedgers"/>) make a new connection when the client certificate
        /// file changes, and end the one it replaces once the last command on it is done, not before, not never. The
        /// "renewed" certificate is first one of another CA, so that the new connection's refusal shows it reads the new
        /// files, then the right one again.
        /// </summary>
        [UnixFact]
        public void A_renewed_client_certificate_makes_a_new_connection_and_the_old_one_ends_after_its_last_command()
        {
            using var tls = new RenewableTls(TestEtcd.TlsLocation(_prefix));
            var settings = new DyadSettings(tls.Environment);
            var location = StateLocation.Of(TestEtcd.TlsLocation(_prefix));
            using var fleet = new FleetLedgers();
            EtcdLedger Open() => Assert.IsType<EtcdLedger>(fleet.Open(location, settings, null));

            var first = Open();
            first.Transact((s, _) => Allocate(s, "a"), NullOperationLog.Instance, default);
            var firstConnection = first.Connection;
            using (var again = Open()) Assert.Same(firstConnection, again.Connection); // unchanged files: the same connection

            tls.Renew("wrong-client.pem", "wrong-client-key.pem", 1);
            var second = Open();
            Assert.NotSame(firstConnection, second.Connection);
            Assert.Equal(ErrorIds.StateStoreRefused, Assert.Throws<DyadPortsException>(() => second.Read(NullOperationLog.Instance, default)).ErrorId);
            // The command still on the replaced connection finishes on it.
            Assert.False(firstConnection.IsEnded);
            Assert.Equal(new[] { "a" }, first.Read(NullOperationLog.Instance, default).Allocations.Keys);
            first.Dispose();
            Assert.True(firstConnection.IsEnded, "the replaced connection outlived its last command");

            var secondConnection = second.Connection;
            second.Dispose();
            Assert.False(secondConnection.IsEnded, "the session's current connection ended with a command");
            tls.Renew("client.pem", "client-key.pem", 2);
            using var third = Open();
            Assert.True(secondConnection.IsEnded, "a replaced connection no command used stayed open");
            Assert.Equal(new[] { "a" }, third.Read(NullOperationLog.Instance, default).Allocations.Keys);
        }

        /// <summary>
        /// Every command's ledger gives its use of the session's connection back, the history's and completion's included
        /// (they once kept it for good): a connection they used ends as soon as renewed files replace it.
        /// </summary>
        [UnixFact]
        public void The_history_and_completion_give_back_their_use_of_a_connection_that_renewed_files_then_replace()
        {
            using var tls = new RenewableTls(TestEtcd.TlsLocation(_prefix));
            using var fleet = new FleetLedgers();
            var session = new DyadSession(tls.Environment, new SystemSockets(Array.Empty<string>(), Array.Empty<string>()), () => fleet);
            EtcdConnection connection;
            using (var ledger = Assert.IsType<EtcdLedger>(fleet.Open(StateLocation.Of(TestEtcd.TlsLocation(_prefix)), session.Settings(), null)))
            {
                ledger.Transact((s, _) => Allocate(s, "a"), NullOperationLog.Instance, default);
                connection = ledger.Connection;
            }

            Assert.NotEmpty(session.History(session.Settings(), NullOperationLog.Instance, default));
            Assert.Equal(new[] { "a" }, session.Peek()?.Allocations.Keys);

            tls.Renew("client.pem", "client-key.pem", 1);
            Assert.Equal(new[] { "a" }, session.Peek()?.Allocations.Keys); // on a new connection
            Assert.True(connection.IsEnded, "a command of the history or of completion still holds the replaced connection");
        }

        /// <summary>
        /// The TLS member's CA and client certificate copied into a folder of the test's own, as DYAD_PORTS_STATE (the
        /// member) and the DYAD_PORTS_ETCD_* variables name them, so that a test can renew them without touching the
        /// member's files. The folder goes at Dispose.
        /// </summary>
        private sealed class RenewableTls : IDisposable
        {
            private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("dyadports-renewal-");
            private readonly Dictionary<string, string> _variables;

            public RenewableTls(string location)
            {
                File.Copy(TestEtcd.TlsFile("ca.pem"), Material("ca.pem"));
                Renew("client.pem", "client-key.pem", 0);
                _variables = new Dictionary<string, string>
                {
                    ["DYAD_PORTS_STATE"] = location,
                    [EtcdOptions.CaCertVariable] = Material("ca.pem"),
                    [EtcdOptions.CertVariable] = Material("client.pem"),
                    [EtcdOptions.KeyVariable] = Material("client-key.pem"),
                    [EtcdOptions.TimeoutVariable] = "5",
                };
            }

            public string Environment(string name) => _variables.TryGetValue(name, out var value) ? value : null;

            /// <summary>Puts the member's <paramref name="cert"/> and <paramref name="key"/> in place of the client's, written <paramref name="minutes"/> from now.</summary>
            public void Renew(string cert, string key, int minutes)
            {
                File.Copy(TestEtcd.TlsFile(cert), Material("client.pem"), overwrite: true);
                File.Copy(TestEtcd.TlsFile(key), Material("client-key.pem"), overwrite: true);
                // A stamp that differs however coarse the file system's clock.
                File.SetLastWriteTimeUtc(Material("client.pem"), DateTime.UtcNow.AddMinutes(minutes));
            }

            public void Dispose() => _folder.Delete(recursive: true);

            private string Material(string name) => Path.Combine(_folder.FullName, name);
        }

        [UnixFact]
        public void Tls_trusting_another_CA_is_refused_naming_the_unknown_CA()
        {
            var e = Refused(TestEtcd.TlsLocation(_prefix), Tls("wrong-ca.pem", "client.pem", "client-key.pem"));
            Assert.Contains("unknown CA", e.Message, StringComparison.Ordinal);
            Assert.Contains(EtcdOptions.CaCertVariable, e.Message, StringComparison.Ordinal);
        }

        [UnixFact]
        public void Tls_without_a_client_certificate_is_refused()
        {
            var e = Refused(TestEtcd.TlsLocation(_prefix), Tls("ca.pem", null, null));
            Assert.Contains("client certificate", e.Message, StringComparison.Ordinal);
        }

        [UnixFact]
        public void Tls_with_a_client_certificate_of_another_CA_is_refused()
        {
            var e = Refused(TestEtcd.TlsLocation(_prefix), Tls("ca.pem", "wrong-client.pem", "wrong-client-key.pem"));
            Assert.Contains("client certificate", e.Message, StringComparison.Ordinal);
        }

        [UnixFact]
        public void Auth_as_dyad_with_its_password_file_works_under_the_granted_prefix()
        {
            var ledger = Open(TestEtcd.AuthLocation("/dyadports" + _prefix), Auth("dyad", TestEtcd.PasswordFile("dyad")));
            ledger.Transact((s, _) => Allocate(s, "a"), NullOperationLog.Instance, default);
            Assert.Equal(new[] { "a" }, ledger.Read(NullOperationLog.Instance, default).Allocations.Keys);
        }

        [UnixFact]
        public void Auth_with_a_wrong_password_is_refused()
        {
            _tempFile = Path.GetTempFileName();
            File.WriteAllText(_tempFile, File.ReadAllText(TestEtcd.PasswordFile("dyad")).Trim() + "-wrong\n");
            var e = Refused(TestEtcd.AuthLocation("/dyadports" + _prefix), Auth("dyad", _tempFile));
            Assert.Contains("wrong user or password", e.Message, StringComparison.Ordinal);
        }

        [UnixFact]
        public void Auth_outside_the_granted_prefix_is_refused_as_permission_denied()
        {
            var e = Refused(TestEtcd.AuthLocation(_prefix), Auth("dyad", TestEtcd.PasswordFile("dyad")));
            Assert.Contains("permission denied", e.Message, StringComparison.Ordinal);
            Assert.Contains(_prefix, e.Message, StringComparison.Ordinal);
        }

        [UnixFact]
        public void Auth_without_a_user_is_refused()
        {
            var e = Refused(TestEtcd.AuthLocation("/dyadports" + _prefix), TestEtcd.Options(timeout: Bound));
            Assert.Contains(EtcdOptions.UserVariable, e.Message, StringComparison.Ordinal);
        }
    }
}
