using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Ledger;
using DyadPorts.Core.State;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Ledger
{
    /// <summary>
    /// The contract of <see cref="IAllocationLedger"/> (see its summary), run against every implementation: a
    /// subclass says how to open a ledger on a fresh location and a second one on the same location.
    /// </summary>
    public abstract class LedgerContract : IDisposable
    {
        /// <summary>
        /// A ledger on this test's private location; each call opens another instance on the same location.
        /// <paramref name="writesNothing"/>: as a command under -WhatIf opens it.
        /// </summary>
        protected abstract IAllocationLedger Open(IStateRecovery recovery = null, bool writesNothing = false);

        public abstract void Dispose();

        private static AllocationRecord Record(string appId, int port) =>
            new AllocationRecord { AppId = appId, Port = port, Engine = EngineKind.Process, AllocatedAt = DateTimeOffset.UtcNow };

        internal static int Add(StateDocument state, string appId, int port, string reason = null)
        {
            state.Allocations[appId] = Record(appId, port);
            state.Record(new PortEvent { Kind = PortEventKind.Allocated, AppId = appId, Port = port, Reason = reason });
            return port;
        }

        [Fact]
        public void A_commit_is_seen_by_every_instance_on_the_same_location()
        {
            Assert.Equal(21001, Open().Transact((s, _) => Add(s, "a", 21001), NullOperationLog.Instance, default));
            var other = Open();
            Assert.Equal(21001, other.Read(NullOperationLog.Instance, default).Allocations["a"].Port);
            Assert.Equal(21001, other.Peek().Allocations["a"].Port);
        }

        [Fact]
        public void A_transaction_that_throws_changes_nothing_and_records_no_history()
        {
            var ledger = Open();
            ledger.Transact((s, _) => Add(s, "a", 21002), NullOperationLog.Instance, default);
            Assert.Throws<InvalidOperationException>(() => ledger.Transact<int>((s, _) =>
            {
                Add(s, "b", 21003);
                s.Allocations.Remove("a");
                throw new InvalidOperationException("the transaction fails half-way");
            }, NullOperationLog.Instance, default));
            var state = Open().Read(NullOperationLog.Instance, default);
            Assert.Equal(new[] { "a" }, state.Allocations.Keys.ToArray());
            Assert.Equal(new[] { "a" }, ledger.History(NullOperationLog.Instance, default).Select(e => e.AppId).ToArray());
        }

        [Fact]
        public void Concurrent_transactions_from_separate_instances_lose_no_update()
        {
            const int writers = 4, each = 15;
            Parallel.For(0, writers, new ParallelOptions { MaxDegreeOfParallelism = writers }, w =>
            {
                var ledger = Open();
                for (var i = 0; i < each; i++)
                {
                    ledger.Transact((s, _) =>
                    {
                        // Read-modify-write of one shared value: a lost update shows as a count below writers × each.
                        s.Counters["contract"] = (s.Counters.TryGetValue("contract", out var n) ? n : 0) + 1;
                        return Add(s, $"w{w}-{i}", 21100 + w * each + i);
                    }, NullOperationLog.Instance, default);
                }
            });
            var state = Open().Read(NullOperationLog.Instance, default);
            Assert.Equal(writers * each, state.Allocations.Count);
            Assert.Equal(writers * each, state.Counters["contract"]);
            Assert.Equal(writers * each, state.Allocations.Values.Select(r => r.Port).Distinct().Count());
        }

        [Fact]
        public void A_read_is_a_copy()
        {
            var ledger = Open();
            ledger.Transact((s, _) => Add(s, "a", 21004), NullOperationLog.Instance, default);
            var read = ledger.Read(NullOperationLog.Instance, default);
            read.Allocations.Clear();
            Assert.True(ledger.Read(NullOperationLog.Instance, default).Allocations.ContainsKey("a"));
        }

        [Fact]
        public void Peek_on_nothing_stored_is_null_and_stores_nothing()
        {
            var ledger = Open();
            Assert.Null(ledger.Peek());
            Assert.Null(Open().Peek());
            Assert.Empty(ledger.History(NullOperationLog.Instance, default));
        }

        [Fact]
        public void History_follows_commit_order()
        {
            var ledger = Open();
            for (var i = 0; i < 5; i++) ledger.Transact((s, _) => Add(s, $"h{i}", 21010 + i), NullOperationLog.Instance, default);
            Assert.Equal(Enumerable.Range(0, 5).Select(i => $"h{i}"), Open().History(NullOperationLog.Instance, default).Select(e => e.AppId));
        }

        [Fact]
        public void History_names_the_operator_of_each_event()
        {
            Open().Transact((s, _) => Add(s, "op", 21014), NullOperationLog.Instance, default);
            var recorded = Assert.Single(Open().History(NullOperationLog.Instance, default));
            Assert.Equal(StateDocument.OperatorName, recorded.Operator);
            Assert.Matches("^.+@.+$", recorded.Operator);
        }

        [Fact]
        public void A_claim_is_never_given_twice_not_even_to_the_same_app_and_port_after_a_release()
        {
            // A start's containers carry its claim; one of an earlier claim is a stale claimant only while the numbers differ.
            var ledger = Open();
            long? ClaimOfA() => Open().Read(NullOperationLog.Instance, default).Allocations["a"].ClaimRevision;
            ledger.Transact((s, _) => Add(s, "a", 21015), NullOperationLog.Instance, default);
            var first = ClaimOfA();
            Assert.NotNull(first);
            ledger.Transact((s, _) => Add(s, "b", 21016), NullOperationLog.Instance, default);
            Assert.Equal(first, ClaimOfA()); // another app's claim leaves a's as it was
            ledger.Transact((s, _) => s.Allocations.Remove("a"), NullOperationLog.Instance, default);
            ledger.Transact((s, _) => s.Allocations.Remove("b"), NullOperationLog.Instance, default);
            Open().Transact((s, _) => Add(s, "a", 21015), NullOperationLog.Instance, default); // another instance: only what is stored counts
            Assert.True(ClaimOfA() > first, $"the second claim of a on the same port is {ClaimOfA()}, the first was {first}");
        }

        [Fact]
        public void On_a_sound_state_a_transaction_is_one_lock_cycle_and_a_read_is_none()
        {
            var ledger = Open();
            ledger.Transact((s, _) => Add(s, "a", 21005), NullOperationLog.Instance, default);
            var before = ledger.LockCycles;
            ledger.Read(NullOperationLog.Instance, default);
            Assert.Equal(before, ledger.LockCycles);
            ledger.Transact((s, _) => Add(s, "b", 21006), NullOperationLog.Instance, default);
            Assert.Equal(before + 1, ledger.LockCycles);
        }

        [Fact]
        public async Task Recovery_runs_with_nothing_held()
        {
            // The recovery itself commits through another instance: it would wait for ever if the ledger held its lock.
            var recovery = new CommittingRecovery(this);
            var ledger = Open(recovery);
            var done = Task.Run(() => ledger.Transact((s, _) => Add(s, "after", 21008), NullOperationLog.Instance, default));
            await done.WaitAsync(TimeSpan.FromSeconds(20)); // a TimeoutException here: recovery ran while the ledger held its lock
            Assert.Equal(1, recovery.Calls);
            Assert.True(Open().Read(NullOperationLog.Instance, default).Allocations.ContainsKey("after"));
        }

        /// <summary>
        /// Nothing stored yet, and the engine has a labelled preview of this state: a command under -WhatIf reads what
        /// recovery finds and stores nothing (a command without it stores the rebuilt state on that same read).
        /// </summary>
        [Fact]
        public void A_read_under_WhatIf_of_a_state_not_stored_yet_gives_what_recovery_finds_and_stores_nothing()
        {
            var recovery = new FoundRecovery("found", 21014);
            var read = Open(recovery, writesNothing: true).Read(NullOperationLog.Instance, default);
            Assert.Equal(21014, read.Allocations["found"].Port);
            Assert.False(string.IsNullOrEmpty(read.StateId));
            Assert.Null(Open().Peek());
            Assert.Empty(Open().History(NullOperationLog.Instance, default));

            Assert.Equal(21014, Open(recovery).Read(NullOperationLog.Instance, default).Allocations["found"].Port);
            Assert.Equal(21014, Open().Peek().Allocations["found"].Port);
        }

        /// <summary>
        /// A ledger opened to write nothing (-WhatIf) says so, and refuses a transaction before running it or touching
        /// anything: what -WhatIf promises does not rest on every caller remembering it.
        /// </summary>
        [Fact]
        public void A_ledger_opened_to_write_nothing_refuses_a_transaction_and_stores_nothing()
        {
            var ledger = Open(writesNothing: true);
            Assert.True(ledger.WritesNothing);
            Assert.False(Open().WritesNothing);
            var ran = false;
            Assert.Throws<InvalidOperationException>(() => ledger.Transact((s, _) => { ran = true; return Add(s, "a", 21017); }, NullOperationLog.Instance, default));
            Assert.False(ran);
            Assert.Null(Open().Peek());
            Assert.Empty(Open().History(NullOperationLog.Instance, default));
        }

        /// <summary>Recovery that finds one labelled preview: <c>appId</c> on <c>port</c>.</summary>
        protected sealed class FoundRecovery : IStateRecovery
        {
            private readonly string _appId;
            private readonly int _port;
            public FoundRecovery(string appId, int port) => (_appId, _port) = (appId, port);

            public StateDocument Rebuild(StateIdentity identity, IOperationLog log, CancellationToken cancellationToken)
            {
                var state = new StateDocument { StateId = identity.StateId };
                Add(state, _appId, _port, "recovered");
                return state;
            }
        }

        private sealed class CommittingRecovery : IStateRecovery
        {
            private readonly LedgerContract _contract;
            public CommittingRecovery(LedgerContract contract) => _contract = contract;
            public int Calls { get; private set; }

            public StateDocument Rebuild(StateIdentity identity, IOperationLog log, CancellationToken cancellationToken)
            {
                Calls++;
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                cts.CancelAfter(TimeSpan.FromSeconds(10));
                _contract.Open().LockApp("probe", TimeSpan.FromSeconds(10), LockWaits.TimedOut, cts.Token).Dispose();
                _contract.Open().Transact((s, _) => 0, NullOperationLog.Instance, cts.Token);
                return new StateDocument { StateId = identity.StateId };
            }
        }

        [Fact]
        public void A_transaction_speaks_once_and_only_when_the_ledger_holds_nothing()
        {
            var log = new ReentrantLog(this);
            Open().Transact((s, said) =>
            {
                said.Warning("from inside the transaction");
                return Add(s, "spoke", 21012);
            }, log, default);
            Assert.Equal(new[] { "from inside the transaction" }, log.Warnings);
            Assert.True(log.NestedCommitted, "the log was called while the ledger held its lock: a second transaction could not commit");
        }

        /// <summary>A log whose warning commits through another instance, as a prompt in another process would wait.</summary>
        private sealed class ReentrantLog : IOperationLog
        {
            private readonly LedgerContract _contract;
            public ReentrantLog(LedgerContract contract) => _contract = contract;
            public System.Collections.Generic.List<string> Warnings { get; } = new System.Collections.Generic.List<string>();
            public bool NestedCommitted { get; private set; }
            public bool VerboseEnabled => false;
            public void Verbose(string message) { }
            public void Progress(string activity, string status, int percent) { }

            public void Warning(string message)
            {
                Warnings.Add(message);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                try
                {
                    _contract.Open().Transact((s, _) => Add(s, "nested", 21013), NullOperationLog.Instance, cts.Token);
                    NestedCommitted = true;
                }
                catch (OperationCanceledException)
                {
                    NestedCommitted = false;
                }
            }
        }

        [Fact]
        public void An_app_lock_excludes_a_second_holder_and_a_wait_for_it_stops_on_cancel_within_a_second()
        {
            // Synchronous on purpose: the holder keeps its thread, and each other caller gets a thread of its own, as two
            // commands in two runspaces would (an await could resume the holder, or run a caller, on a reused thread).
            var ledger = Open();
            using (ledger.LockApp("app", TimeSpan.FromSeconds(5), LockWaits.TimedOut, default))
            {
                var other = Open();
                var e = Assert.IsType<DyadPortsException>(OnOwnThread(() => other.LockApp("app", TimeSpan.FromMilliseconds(300), LockWaits.TimedOut, default).Dispose()));
                Assert.Equal(ErrorIds.PreviewStartInProgress, e.ErrorId);

                using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
                var watch = Stopwatch.StartNew();
                Assert.IsAssignableFrom<OperationCanceledException>(OnOwnThread(() => other.LockApp("app", TimeSpan.FromSeconds(30), LockWaits.TimedOut, cts.Token).Dispose()));
                Assert.InRange(watch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(1.2));
            }
            Assert.Null(OnOwnThread(() => Open().LockApp("app", TimeSpan.FromSeconds(1), LockWaits.TimedOut, default).Dispose())); // free again once released
        }

        /// <summary>Runs <paramref name="action"/> on a new thread and returns what it threw (null: nothing).</summary>
        private static Exception OnOwnThread(Action action)
        {
            Exception thrown = null;
            var thread = new Thread(() => thrown = Xunit.Record.Exception(action));
            thread.Start();
            Assert.True(thread.Join(TimeSpan.FromSeconds(40)), "the caller did not return");
            return thrown;
        }
    }
}
