using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.Versioning;
using DyadPorts.Core.Diagnostics;
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
