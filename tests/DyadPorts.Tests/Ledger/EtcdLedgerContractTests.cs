using System.Collections.Generic;
using DyadPorts.Core.Ledger;
using DyadPorts.Fleet;
using DyadPorts.Tests.Support;

namespace DyadPorts.Tests.Ledger
{
    /// <summary>The ledger contract on <see cref="EtcdLedger"/>, against the real etcd test cluster (DYADPORTS_TEST_ETCD), under a prefix of its own.</summary>
    public sealed class EtcdLedgerContractTests : LedgerContract
    {
        private readonly string _prefix = TestEtcd.NewPrefix();
        private readonly List<EtcdLedger> _opened = new List<EtcdLedger>();

        /// <summary>Each instance has its own connection, as separate operators would.</summary>
        protected override IAllocationLedger Open(IStateRecovery recovery = null, bool writesNothing = false)
        {
            var ledger = new EtcdLedger(TestEtcd.Connect(_prefix), recovery, ownsCluster: true, writesNothing: writesNothing);
            lock (_opened) _opened.Add(ledger);
            return ledger;
        }

        public override void Dispose()
        {
            TestEtcd.DeletePrefix(_prefix);
            lock (_opened) foreach (var ledger in _opened) ledger.Dispose();
        }
    }
}
