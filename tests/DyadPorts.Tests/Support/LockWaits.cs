using System;
using DyadPorts.Core.Diagnostics;

namespace DyadPorts.Tests.Support
{
    /// <summary>The error a test gives <c>IAllocationLedger.LockApp</c> for a wait that ran out, as the launcher's is: PreviewStartInProgress.</summary>
    internal static class LockWaits
    {
        public static DyadPortsException TimedOut(string target, TimeSpan waited) =>
            new DyadPortsException(ErrorIds.PreviewStartInProgress, FailureCategory.ResourceUnavailable, target, "held");
    }
}
