using System;
using System.Collections.Generic;
using System.Threading;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Ledger
{
    /// <summary>
    /// The allocation table in a JSON file (<see cref="StateStore"/>): a transaction runs under the cross-process
    /// lock and lands by an atomic rename, so compare-and-swap holds trivially (nobody else can commit meanwhile)
    /// and a transaction runs exactly once. Reads take no lock while the file is sound: the rename means a reader
    /// sees a whole old or a whole new file. Recovery runs with the lock released: the file is read under the lock,
    /// found missing or unreadable, the lock is let go, the engine is asked, and the rebuilt state is committed under
    /// the lock only if the file is still in the same condition.
    /// </summary>
    public sealed class FileLedger : IAllocationLedger
    {
        private readonly StateStore _store;
        private readonly IStateRecovery _recovery;
        private readonly bool _writesNothing;
        private static long s_lockCycles;
        private long _lockCycles;

        /// <param name="writesNothing">
        /// A command under -WhatIf: a read that would repair the file (migrate, prune, rebuild a missing or unreadable
        /// one from the engine's labelled containers) does it in memory only, and leaves the file as it is.
        /// </param>
        public FileLedger(StateStore store, IStateRecovery recovery, bool writesNothing = false)
        {
            _store = store ?? throw new ArgumentNullException(nameof(store));
            _recovery = recovery;
            _writesNothing = writesNothing;
        }

        public string Location => _store.Path;
        public long LockCycles => Interlocked.Read(ref _lockCycles);
        public bool WritesNothing => _writesNothing;

        /// <summary>Lock cycles of every file ledger in this process, read by the bench the way it reads ContainerEngine.Calls.</summary>
        public static long ProcessLockCycles => Interlocked.Read(ref s_lockCycles);

        private void CountLockCycle()
        {
            Interlocked.Increment(ref _lockCycles);
            Interlocked.Increment(ref s_lockCycles);
        }

        /// <summary>The store underneath, for what lives beside the state file (preview logs).</summary>
        public StateStore Store => _store;

        public StateDocument Read(IOperationLog log, CancellationToken cancellationToken)
        {
            var sound = _store.PeekSound();
            if (sound != null) return sound;
            if (Missing())
            {
                // Nothing stored yet: what recovery finds is the state. Only a non-empty one needs writing (and the lock).
                var identity = new StateIdentity(_store.DerivedStateId);
                var (rebuilt, failed) = Rebuild(identity, log, cancellationToken);
                if (failed != null || rebuilt.Allocations.Count == 0) return new StateDocument { StateId = _store.DerivedStateId };
                if (_writesNothing) return Prepared(identity, rebuilt, null);
            }
            return _writesNothing ? ReadWithoutWriting(log, cancellationToken) : Transact((state, _) => state, log, cancellationToken);
        }

        /// <summary>
        /// A file that needs repair, read as it would be repaired, with nothing written: a version 1 file migrated and
        /// malformed records left out in memory (<see cref="StateStore.ReadAsStored"/>), an unreadable one rebuilt from the
        /// labelled containers of the states it names (as far as its text still tells them).
        /// </summary>
        private StateDocument ReadWithoutWriting(IOperationLog log, CancellationToken cancellationToken)
        {
            StateIdentity identity;
            DyadPortsException unreadable = null;
            try
            {
                return _store.ReadAsStored(log);
            }
            catch (DyadPortsException e) when (e.ErrorId == ErrorIds.StateFileNotFound)
            {
                identity = new StateIdentity(_store.DerivedStateId); // removed meanwhile: what recovery finds is the state
            }
            catch (DyadPortsException e) when (e.ErrorId == ErrorIds.StateFileCorrupt)
            {
                identity = _store.SalvageIdentity();
                unreadable = e;
            }
            var (rebuilt, failed) = Rebuild(identity, log, cancellationToken);
            if (failed != null && !Missing()) throw failed;
            // Said once the labelled containers were read: a rebuild that fails says StateFileCorrupt itself.
            if (unreadable != null) log.Warning($"{ErrorIds.StateFileCorrupt}: {unreadable.Message} Under -WhatIf it was read from this state's labelled containers instead, and not rebuilt.");
            return Prepared(identity, rebuilt ?? new StateDocument(), null);
        }

        public StateDocument Peek() => _store.Peek();

        public StateDocument ReadAsStored(IOperationLog log, CancellationToken cancellationToken) => _store.ReadAsStored(log ?? NullOperationLog.Instance);

        public T Transact<T>(LedgerTransaction<T> transaction, IOperationLog log, CancellationToken cancellationToken)
        {
            if (_writesNothing) throw WriteRefusal.For(Location);
            // A missing file is the common first use: recover before the lock, so that it costs one lock cycle.
            StateIdentity preparedFor = null;
            StateDocument rebuilt = null;
            DyadPortsException failed = null;
            if (Missing())
            {
                preparedFor = new StateIdentity(_store.DerivedStateId);
                (rebuilt, failed) = Rebuild(preparedFor, log, cancellationToken);
            }
            var held = new BufferedLog(log);
            try
            {
                CountLockCycle();
                return _store.Update(state => Stamped(transaction, state, held), id => id.Equals(preparedFor) ? Prepared(id, rebuilt, failed) : throw new RecoveryNeeded(id), held, cancellationToken);
            }
            catch (RecoveryNeeded e)
            {
                preparedFor = e.Identity;
                held.Discard(); // the run that found the file unreadable is run again below
            }
            finally
            {
                held.Replay(); // the lock is released by now
            }

            // The file was unreadable (or vanished meanwhile). Nothing is held now: ask the engine, then commit under the
            // lock; the store re-reads the file and uses the rebuilt state only if the file still needs it.
            (rebuilt, failed) = Rebuild(preparedFor, log, cancellationToken);
            var again = new BufferedLog(log);
            try
            {
                CountLockCycle();
                return _store.Update(state => Stamped(transaction, state, again), id => Prepared(id, rebuilt, failed), again, cancellationToken);
            }
            finally
            {
                again.Replay();
            }
        }

        /// <summary>Runs the transaction and gives each claim it made the state's next claim number (<see cref="FileClaims"/>).</summary>
        private static T Stamped<T>(LedgerTransaction<T> transaction, StateDocument state, IOperationLog log)
        {
            var claims = FileClaims.Before(state);
            var result = transaction(state, log);
            claims.Stamp(state);
            return result;
        }

        private bool Missing() => !System.IO.File.Exists(_store.Path) && !System.IO.Directory.Exists(_store.Path);

        /// <summary>Recovery with nothing held; a StateFileCorrupt (no engine answers) is kept for the store to decide on.</summary>
        private (StateDocument Rebuilt, DyadPortsException Failed) Rebuild(StateIdentity identity, IOperationLog log, CancellationToken cancellationToken)
        {
            try
            {
                if (_recovery == null)
                {
                    throw new DyadPortsException(ErrorIds.StateFileCorrupt, FailureCategory.ResourceUnavailable, Location,
                        $"The DyadPorts state '{Location}' must be rebuilt, and this command has no engine to rebuild it from. It was left exactly as it is.");
                }
                return (_recovery.Rebuild(identity, log, cancellationToken), null);
            }
            catch (DyadPortsException e) when (e.ErrorId == ErrorIds.StateFileCorrupt)
            {
                return (null, e); // a missing file then starts empty; an unreadable one stays as it is
            }
        }

        private static StateDocument Prepared(StateIdentity identity, StateDocument rebuilt, DyadPortsException failed)
        {
            if (failed != null) throw failed;
            var copy = StateStore.Clone(rebuilt);
            identity.Stamp(copy);
            return copy;
        }

        public IReadOnlyList<PortEvent> History(IOperationLog log, CancellationToken cancellationToken) => _store.ReadHistory(log.Warning, cancellationToken);

        public IAppLock LockApp(string appId, TimeSpan timeout, Func<string, TimeSpan, DyadPortsException> timedOut, CancellationToken cancellationToken) =>
            _store.LockApp(appId, timeout, timedOut, cancellationToken);

        /// <summary>Nothing to end: the state file is opened and closed within each call.</summary>
        public void Dispose()
        {
        }

        /// <summary>Unwinds the first locked pass of a transaction that found the state missing or unreadable.</summary>
        private sealed class RecoveryNeeded : Exception
        {
            public RecoveryNeeded(StateIdentity identity) : base("The state must be rebuilt.") => Identity = identity;
            public StateIdentity Identity { get; }
        }
    }
}
