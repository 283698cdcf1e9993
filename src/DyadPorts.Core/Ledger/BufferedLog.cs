using System;
using System.Collections.Generic;
using DyadPorts.Core.Diagnostics;

namespace DyadPorts.Core.Ledger
{
    /// <summary>
    /// What a transaction says, held until the ledger holds nothing any more: a ledger gives one to each run of a
    /// transaction and replays the committed run's messages after its lock is released (or its commit answered),
    /// so a cmdlet's WriteWarning (which may prompt) never runs under the state lock, and a transaction that a
    /// compare-and-swap ledger runs twice speaks once.
    /// </summary>
    public sealed class BufferedLog : IOperationLog
    {
        private readonly IOperationLog _inner;
        private readonly List<Action<IOperationLog>> _held = new List<Action<IOperationLog>>();

        public BufferedLog(IOperationLog inner)
        {
            _inner = inner ?? NullOperationLog.Instance;
        }

        public bool VerboseEnabled => _inner.VerboseEnabled;

        public void Verbose(string message) { lock (_held) _held.Add(l => l.Verbose(message)); }
        public void Warning(string message) { lock (_held) _held.Add(l => l.Warning(message)); }
        public void Progress(string activity, string status, int percent) { lock (_held) _held.Add(l => l.Progress(activity, status, percent)); }

        /// <summary>Forgets what a run that did not commit said.</summary>
        public void Discard() { lock (_held) _held.Clear(); }

        /// <summary>Says it all to the caller's log, in order, once.</summary>
        public void Replay()
        {
            Action<IOperationLog>[] held;
            lock (_held)
            {
                held = _held.ToArray();
                _held.Clear();
            }
            foreach (var say in held) say(_inner);
        }
    }
}
