using System;

namespace DyadPorts.Core.Ledger
{
    /// <summary>What every ledger opened to write nothing (-WhatIf, <see cref="IAllocationLedger.WritesNothing"/>) throws when asked to commit.</summary>
    internal static class WriteRefusal
    {
        /// <summary>A transaction asked of a ledger opened to write nothing: a bug in the caller, refused before anything is touched.</summary>
        internal static InvalidOperationException For(string location) =>
            new InvalidOperationException($"The DyadPorts state '{location}' was opened to write nothing (-WhatIf); a transaction on it is refused.");
    }
}
