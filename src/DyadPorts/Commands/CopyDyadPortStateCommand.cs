using System;
using System.Management.Automation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Ledger;
using DyadPorts.Core.State;
using DyadPorts.Infrastructure;

namespace DyadPorts.Commands
{
    /// <summary>
    /// Copies a state's allocations and preview records into another state (a file into etcd, etcd into a file as a
    /// backup), keeping their ports and their previews' ownership (<see cref="StateCopier"/>).
    /// </summary>
    [Cmdlet(VerbsCommon.Copy, "DyadPortState", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(StateCopyResult))]
    public sealed class CopyDyadPortStateCommand : DyadPortsCmdlet
    {
        /// <summary>The state to copy from: a state file's path or an etcd URL. Never written.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [Alias("FullName")]
        public string Source { get; set; }

        /// <summary>The state to copy into: a state file's path (created when missing) or an etcd URL.</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [ValidateNotNullOrEmpty]
        public string Destination { get; set; }

        protected override void Process()
        {
            // The destination first: every input shares it, so a bad one stops the command before any source is read.
            var destination = Location(Destination, e => new DyadPortsException(ErrorIds.StateLocationInvalid, FailureCategory.InvalidArgument, Destination,
                $"The destination '{Destination}' is not a file-system path or an etcd URL: {e.Message}", e));
            var source = Location(Source, e => new DyadPortsException(ErrorIds.StateFileNotFound, FailureCategory.ObjectNotFound, Source,
                $"The source state '{Source}' is not a file-system path or an etcd URL: {e.Message}", e));
            IAllocationLedger from = null;
            try
            {
                from = Session.OpenLedger(Settings, source, mustExist: true);
                var into = Session.OpenLedger(Settings, destination, mustExist: false);
                try
                {
                    var copier = new StateCopier(from, into);
                    StateCopyResult plan;
                    try
                    {
                        plan = copier.Plan(Log, CancellationToken); // reads the source, as stored: nothing of it is written
                    }
                    catch (DyadPortsException e) when (OfSource(e, source, from))
                    {
                        // This source cannot be read (missing, not a state, newer, unsafe, unreachable): the next piped one still is.
                        WriteError(e);
                        return;
                    }
                    if (!ShouldProcess(destination, $"Copy {plan.Copied} allocation(s) from {source}")) return;
                    WriteObject(copier.Copy(WriteError, Log, CancellationToken));
                }
                finally
                {
                    into.Dispose();
                }
            }
            catch (DyadPortsException e) when (from == null && OfSource(e, source, null))
            {
                WriteError(e); // the source could not even be opened
            }
            finally
            {
                from?.Dispose();
            }
        }

        /// <summary>A failure of this input's source, not of the destination every input shares.</summary>
        private static bool OfSource(DyadPortsException e, string source, IAllocationLedger from) =>
            e.Target is string target && (string.Equals(target, source, StringComparison.Ordinal) || string.Equals(target, from?.Location, StringComparison.Ordinal));

        /// <summary>A path against PowerShell's current location (and ~); a URL as it is.</summary>
        private string Location(string location, Func<Exception, DyadPortsException> notAPath) =>
            StateLocation.Classify(location) == StateLocationKind.File ? FileSystemPath(location, notAPath) : location.Trim();
    }
}
