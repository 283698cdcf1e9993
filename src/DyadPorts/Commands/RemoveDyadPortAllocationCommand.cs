using System.Management.Automation;
using DyadPorts.Completion;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Infrastructure;

namespace DyadPorts.Commands
{
    /// <summary>Releases apps' allocations. Containers are left alone: Stop-DyadPreview removes those.</summary>
    [Cmdlet(VerbsCommon.Remove, "DyadPortAllocation", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(PortAllocation))]
    public sealed class RemoveDyadPortAllocationCommand : EngineCmdlet
    {
        /// <summary>
        /// Any AppId the state holds, also one that fails the rule for new apps (<see cref="ValidateAppIdAttribute"/>), an
        /// empty one included: a record another tool or a hand edit wrote must not hold its port for good. One the state
        /// does not hold is AppIdNotFound.
        /// </summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [AllowEmptyString]
        [ArgumentCompleter(typeof(AppIdCompleter))]
        [Alias("Name")]
        public string[] AppId { get; set; }

        /// <summary>Write each released allocation (Status Released) to the pipeline.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <summary>Release an allocation of another machine's local engine or processes too (refused without it: RecordOnOtherMachine).</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void Process()
        {
            // Releasing reads and writes only the state file. The engine is resolved only if the state must be
            // rebuilt (a corrupt or missing file): then from its labelled containers, never from nothing.
            var allocator = LedgerOnlyAllocator;
            ForEachInput(AppId, appId =>
            {
                if (!ShouldProcess($"app {appId}", "Release its port allocation")) return;
                var released = allocator.Release(appId, Force, Log, CancellationToken);
                if (released == null)
                {
                    throw new DyadPortsException(ErrorIds.AppIdNotFound, FailureCategory.ObjectNotFound, appId,
                        $"No port is allocated to app '{appId}', so there is nothing to remove.");
                }
                if (PassThru) WriteObject(released);
            });
        }
    }
}
