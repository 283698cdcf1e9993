using System;
using System.IO;
using System.Linq;
using System.Diagnostics;
using System.Security.Cryptography;
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

        protected override IAllocationLedger Open(IStateRecovery recovery = null, bool writesNothing = false) => new FileLedger(new StateStore(_temp.StatePath), recovery, writesNothing);

        public override void Dispose() => _temp.Dispose();

        /// <summary>
        /// A file a read would repair (cut off mid-write, version 1, a malformed record), read by a command under -WhatIf: it
        /// is read as the repair would leave it, in memory, and the file and its folder stay exactly as they were (no
        /// backup, no lock file, no history). The same read without -WhatIf repairs it, so the test tells the two apart.
        /// </summary>
        [Theory]
        [InlineData("{ \"version\": 2, \"allocations\": { \"a\": { \"appId\": ", "found")]
        [InlineData("{\"version\":1,\"allocations\":{\"a\":{\"appId\":\"a\",\"port\":21015,\"engine\":\"Process\",\"allocatedAt\":\"2026-11-30T00:00:00+00:00\"}}}", "a")]
        [InlineData("{\"version\":2,\"stateId\":\"0a1b2c3d4e5f6a7b\",\"allocations\":{\"a\":{\"appId\":\"a\",\"port\":21015,\"engine\":\"Process\",\"allocatedAt\":\"2026-11-30T00:00:00+00:00\"},\"bad\":{\"appId\":\"bad\",\"port\":\"x\"}}}", "a")]
        public void A_read_under_WhatIf_of_a_file_that_needs_repair_leaves_the_file_and_its_folder_as_they_are(string text, string expected)
        {
            File.WriteAllText(_temp.StatePath, text);
            var bytes = File.ReadAllBytes(_temp.StatePath);
            var folder = Path.GetDirectoryName(_temp.StatePath);
            var before = Tree(folder);

            var read = Open(new FoundRecovery("found", 21016), writesNothing: true).Read(NullOperationLog.Instance, default);
            Assert.Equal(new[] { expected }, read.Allocations.Keys.ToArray());
            Assert.False(string.IsNullOrEmpty(read.StateId));
            Assert.Equal(before, Tree(folder)); // every entry, and every file's bytes (the state's among them)

            Open(new FoundRecovery("found", 21016)).Read(NullOperationLog.Instance, default);
            Assert.NotEqual(bytes, File.ReadAllBytes(_temp.StatePath));
        }

        /// <summary>
        /// A state a read cannot take as it is (a newer version's file, a folder where the file belongs, an unreadable file
        /// with no engine to rebuild it from), read by a command under -WhatIf: it answers what the real read answers (the
        /// same state, or an error of the same id), and the state's folder stays exactly as it was, down to its bytes.
        /// </summary>
        [Theory]
        [InlineData("newer version")]
        [InlineData("a folder at the path")]
        [InlineData("unreadable, no engine")]
        public void A_read_under_WhatIf_of_a_state_it_cannot_take_as_it_is_answers_as_the_real_read_and_changes_nothing(string row)
        {
            IStateRecovery recovery = new FoundRecovery("found", 21018);
            switch (row)
            {
                case "newer version":
                    File.WriteAllText(_temp.StatePath, "{\"version\":99,\"stateId\":\"0a1b2c3d4e5f6a7b\",\"allocations\":{}}");
                    break;
                case "a folder at the path":
                    Directory.CreateDirectory(_temp.StatePath);
                    File.WriteAllText(Path.Combine(_temp.StatePath, "inside"), "kept");
                    break;
                default:
                    File.WriteAllText(_temp.StatePath, "{ \"version\": 2, \"allocations\": ");
                    recovery = null;
                    break;
            }
            var folder = Path.GetDirectoryName(_temp.StatePath);
            var before = Tree(folder);

            var whatIf = Answer(() => Open(recovery, writesNothing: true).Read(NullOperationLog.Instance, default));
            Assert.Equal(before, Tree(folder));
            Assert.Equal(Answer(() => Open(recovery).Read(NullOperationLog.Instance, default)), whatIf);
        }

        /// <summary>A transaction refused by a ledger opened to write nothing leaves the state's folder exactly as it was: no lock file, no folder, no history.</summary>
        [Fact]
        public void A_transaction_refused_under_WhatIf_creates_nothing_in_the_state_folder()
        {
            var folder = Path.GetDirectoryName(_temp.StatePath);
            var before = Tree(folder);
            Assert.Throws<InvalidOperationException>(() => Open(new FoundRecovery("found", 21019), writesNothing: true).Transact((s, _) => LedgerContract.Add(s, "a", 21017), NullOperationLog.Instance, default));
            Assert.Equal(before, Tree(folder));
        }

        private static string Answer(Func<StateDocument> read)
        {
            try
            {
                return "state: " + string.Join(",", read().Allocations.Keys);
            }
            catch (DyadPortsException e)
            {
                return "error: " + e.ErrorId;
            }
        }

        /// <summary>Every entry under the folder, a file with the hash of its bytes.</summary>
        private static string[] Tree(string folder) =>
            Directory.GetFileSystemEntries(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
                .Select(p => p + (File.Exists(p) ? " " + Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p))) : "/")).ToArray();

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
