using System;
using System.Collections.Generic;
using System.Threading;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Ledger
{
    /// <summary>
    /// A change to the allocation table: pure on the document it is given. It may run more than once (a ledger
    /// with compare-and-swap semantics re-runs it on a conflict with a fresh document), so it never calls an
    /// engine, never sleeps and never has effects outside the document. It speaks only through <paramref name="log"/>,
    /// which the ledger holds back (<see cref="BufferedLog"/>) and replays once it holds nothing: a cmdlet's
    /// WriteWarning, which may prompt, never runs under the state lock. The host probe it consults (through the
    /// allocator's occupancy) reads this machine's sockets, never an engine. What it returns is the result.
    /// </summary>
    public delegate T LedgerTransaction<out T>(StateDocument state, IOperationLog log);

    /// <summary>
    /// The allocation table's storage: the only code that reads or changes allocations, preview records, the
    /// reaper's samples, the counters and the history. <see cref="FileLedger"/> is the first implementation (a
    /// JSON file under a cross-process lock); a fleet store is the second. The contract, which
    /// <c>LedgerContractTests</c> checks against every implementation:
    /// <list type="bullet">
    /// <item><see cref="Transact{T}"/> is atomic: all of a transaction's changes land, or none does. Two
    /// transactions never both see the same version and both commit (compare-and-swap); the loser runs again on
    /// the winner's result.</item>
    /// <item>No engine is called while the ledger holds anything: a caller reads the engine first, then commits.
    /// The only engine use is recovery, which is given to the ledger when it is built
    /// (<see cref="IStateRecovery"/>) and runs with nothing held.</item>
    /// <item><see cref="Read"/> is a consistent copy; changing it changes nothing stored.</item>
    /// <item><see cref="Peek"/> never writes, never repairs and never throws: null when there is nothing sound to read.</item>
    /// <item>Events recorded by a transaction (<see cref="StateDocument.Record"/>) reach the history in commit order.</item>
    /// <item>A ledger is one command's: disposed when the command ends (an etcd ledger then revokes its session lease and
    /// gives back its use of the session's connection).</item>
    /// </list>
    /// </summary>
    public interface IAllocationLedger : IDisposable
    {
        /// <summary>Where the state lives (a path or a URL), for messages and error targets.</summary>
        string Location { get; }

        /// <summary>How many times this ledger took its state lock (file) or ran a commit round (fleet store): the cost the bench and the tests count.</summary>
        long LockCycles { get; }
        /// <summary>
        /// Opened for a command under -WhatIf (<c>DyadSettings.WritesNothing</c>): a read that would repair, migrate or rebuild
        /// the stored state does it in memory only, and <see cref="Transact{T}"/> is refused (an InvalidOperationException: a
        /// caller's bug, never a user's error), so that nothing at all is stored. Callers that would record something ask this.
        /// </summary>
        bool WritesNothing { get; }

        /// <summary>A consistent copy of the table. Takes the lock only when the stored state must first be migrated or recovered.</summary>
        StateDocument Read(IOperationLog log, CancellationToken cancellationToken);

        /// <summary>The table as stored, without locking, repairing or writing anything; null when missing, unreadable, unsafe or newer.</summary>
        StateDocument Peek();

        /// <summary>
        /// The table as stored, to read only (a copy's source): nothing locked, repaired, rebuilt or written; what a read
        /// would migrate or leave out is done in memory (a record left out is a warning). A state that cannot be read fails
        /// with its own error, its location the target.
        /// </summary>
        StateDocument ReadAsStored(IOperationLog log, CancellationToken cancellationToken);

        /// <summary>Runs <paramref name="transaction"/> atomically and commits what it changed (nothing, when it changed nothing).</summary>
        T Transact<T>(LedgerTransaction<T> transaction, IOperationLog log, CancellationToken cancellationToken);

        /// <summary>The recorded decisions, oldest first. A history that cannot be read costs a warning, never the caller's answer.</summary>
        IReadOnlyList<PortEvent> History(IOperationLog log, CancellationToken cancellationToken);

        /// <summary>
        /// One start or stop per app at a time, across threads, runspaces and processes; released when its holder
        /// ends, even by kill -9. <paramref name="timedOut"/> makes the error for a wait that ran out. The lock tells its
        /// holder when it was lost while held (<see cref="IAppLock.Lost"/>).
        /// </summary>
        IAppLock LockApp(string appId, TimeSpan timeout, Func<string, TimeSpan, DyadPortsException> timedOut, CancellationToken cancellationToken);
    }
}
