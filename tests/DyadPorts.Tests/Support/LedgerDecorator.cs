using System;
using System.Collections.Generic;
using System.Threading;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Ledger;
using DyadPorts.Core.State;

namespace DyadPorts.Tests.Support
{
    /// <summary>A ledger that passes everything to <see cref="Inner"/>; a test overrides what it must change (production types carry no hooks).</summary>
    internal abstract class LedgerDecorator : IAllocationLedger
    {
        protected LedgerDecorator(IAllocationLedger inner) => Inner = inner;

        protected IAllocationLedger Inner { get; }
        public string Location => Inner.Location;
        public long LockCycles => Inner.LockCycles;
        public bool WritesNothing => Inner.WritesNothing;
        public StateDocument Read(IOperationLog log, CancellationToken cancellationToken) => Inner.Read(log, cancellationToken);
        public StateDocument Peek() => Inner.Peek();
        public void Dispose() => Inner.Dispose();
        public StateDocument ReadAsStored(IOperationLog log, CancellationToken cancellationToken) => Inner.ReadAsStored(log, cancellationToken);
        public IReadOnlyList<PortEvent> History(IOperationLog log, CancellationToken cancellationToken) => Inner.History(log, cancellationToken);

        public IAppLock LockApp(string appId, TimeSpan timeout, Func<string, TimeSpan, DyadPortsException> timedOut, CancellationToken cancellationToken) =>
            Inner.LockApp(appId, timeout, timedOut, cancellationToken);

        public virtual T Transact<T>(LedgerTransaction<T> transaction, IOperationLog log, CancellationToken cancellationToken) => Inner.Transact(transaction, log, cancellationToken);
    }
}
