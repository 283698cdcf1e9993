using System.Management.Automation;
using DyadPorts.Completion;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Infrastructure;

namespace DyadPorts.Commands
{
    /// <summary>Releases apps' allocations. Containers are left alone: Stop-DyadPreview removes those.</summary>
    [Cmdlet(VerbsCommon.Remove, "DyadPortAllocation", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(PortAllocation))]
    public sealed class RemoveDyadPortAllocationCommand : DyadPortsCmdlet
    {
        private Core.Allocation.PortAllocator _allocator;

        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateAppId]
        [ArgumentCompleter(typeof(AppIdCompleter))]
        [Alias("Name")]
        public string[] AppId { get; set; }

        /// <summary>Write each released allocation (Status Released) to the pipeline.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void Process()
        {
            // Releasing reads and writes only the state file: no engine is needed.
            var allocator = _allocator ?? (_allocator = new Core.Allocation.PortAllocator(Session.Store(), null, EngineKind.Process));
            foreach (var appId in AppId)
            {
                if (!ShouldProcess($"app {appId}", "Release its port allocation")) continue;
                var released = allocator.Release(appId, Log, CancellationToken);
                if (released == null)
                {
                    WriteError(new DyadPortsException(ErrorIds.AppIdNotFound, FailureCategory.ObjectNotFound, appId,
                        $"No port is allocated to app '{appId}', so there is nothing to remove."));
                    continue;
                }
                if (PassThru) WriteObject(released);
            }
        }
    }
}
