using System.IO;
using DyadPorts.Core.Ledger;
using DyadPorts.Core.State;
using DyadPorts.Tests.Support;

namespace DyadPorts.Tests.Ledger
{
    /// <summary>The ledger contract on <see cref="FileLedger"/>: a JSON file under a cross-process lock.</summary>
    public sealed class FileLedgerContractTests : LedgerContract
    {
        private readonly TempState _temp = new TempState();

        protected override IAllocationLedger Open(IStateRecovery recovery = null) => new FileLedger(new StateStore(_temp.StatePath), recovery);

        public override void Dispose() => _temp.Dispose();
    }
}
