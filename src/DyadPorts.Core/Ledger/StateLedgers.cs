using System;
using System.IO;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Ledger
{
    /// <summary>
    /// Opens the ledger a location names, for commands that are given a state rather than taking DYAD_PORTS_STATE
    /// (Copy-DyadPortState). No recovery is given: a copy never rebuilds a state from an engine, and an unreadable file
    /// stays as it is (StateFileCorrupt). A path is a <see cref="FileLedger"/>; an etcd:// or etcds:// URL is opened by
    /// <paramref name="openEtcd"/>, which the module layer supplies (Core knows no etcd client).
    /// </summary>
    public static class StateLedgers
    {
        /// <param name="location">A full path, or an etcd:// / etcds:// URL.</param>
        /// <param name="mustExist">A source: a missing file is <see cref="ErrorIds.StateFileNotFound"/> (never created, never read as empty).</param>
        /// <param name="openEtcd">Opens an etcd location; null where etcd is not available.</param>
        /// <param name="writesNothing">A command under -WhatIf: the ledger says so and refuses a transaction (<see cref="IAllocationLedger.WritesNothing"/>).</param>
        public static IAllocationLedger Open(string location, bool mustExist, Func<string, IAllocationLedger> openEtcd, bool writesNothing = false)
        {
            switch (StateLocation.Classify(location))
            {
                case StateLocationKind.Etcd:
                    if (openEtcd == null)
                    {
                        throw new DyadPortsException(ErrorIds.StateLocationInvalid, FailureCategory.InvalidArgument, location,
                            $"'{location}' is an etcd state, and this command cannot open etcd states in this build. Give a state file's path.");
                    }
                    return openEtcd(location);
                case StateLocationKind.Unknown:
                    throw StateLocation.UnknownScheme(location);
                default:
                    if (string.IsNullOrWhiteSpace(location))
                    {
                        throw new DyadPortsException(ErrorIds.StateLocationInvalid, FailureCategory.InvalidArgument, location, "No state location was given.");
                    }
                    if (mustExist && !File.Exists(location) && !Directory.Exists(location))
                    {
                        throw new DyadPortsException(ErrorIds.StateFileNotFound, FailureCategory.ObjectNotFound, location,
                            $"There is no DyadPorts state file at '{location}'. Nothing was copied, and nothing was created.");
                    }
                    return new FileLedger(new StateStore(location), null, writesNothing);
            }
        }
    }
}
