using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using DyadPorts.Core.Diagnostics;
using Xunit;
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

        // The file ledger is pessimistic: a second transaction waits for the lock (a compare-and-swap ledger re-runs instead).
        [Fact]
        public async Task A_transaction_waiting_for_the_file_lock_stops_on_cancel_within_a_second()
        {
            var ledger = Open();
            ledger.Transact((s, _) => LedgerContract.Add(s, "a", 21007), NullOperationLog.Instance, default);
            using var inside = new ManualResetEventSlim();
            using var release = new ManualResetEventSlim();
            var holder = Task.Run(() => Open().Transact((s, _) =>
            {
                inside.Set();
                release.Wait(TimeSpan.FromSeconds(20)); // holds the ledger (a file ledger: its lock) until told
                return LedgerContract.Add(s, "holder", 21009);
            }, NullOperationLog.Instance, default));
            Assert.True(inside.Wait(TimeSpan.FromSeconds(10)));
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
                var watch = Stopwatch.StartNew();
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.Run(() => Open().Transact((s, _) => LedgerContract.Add(s, "waiter", 21011), NullOperationLog.Instance, cts.Token)));
                Assert.InRange(watch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(1.2));
            }
            finally
            {
                release.Set();
            }
            await holder;
            Assert.False(Open().Read(NullOperationLog.Instance, default).Allocations.ContainsKey("waiter"));
        }
    }
}
