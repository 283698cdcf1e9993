using System.Management.Automation;
using DyadPorts.Completion;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Previews;
using DyadPorts.Infrastructure;

namespace DyadPorts.Commands
{
    /// <summary>Stops an app's preview (only containers DyadPorts created) and releases its port.</summary>
    [Cmdlet(VerbsLifecycle.Stop, "DyadPreview", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(Preview))]
    public sealed class StopDyadPreviewCommand : EngineCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateAppId]
        [ArgumentCompleter(typeof(AppIdCompleter))]
        [Alias("Name")]
        public string[] AppId { get; set; }

        /// <summary>Remove the container instead of only stopping it.</summary>
        [Parameter]
        public SwitchParameter Remove { get; set; }

        /// <summary>Keep the port allocated to the app.</summary>
        [Parameter]
        public SwitchParameter KeepAllocation { get; set; }

        /// <summary>Write what was stopped to the pipeline.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void Process()
        {
            foreach (var appId in AppId)
            {
                var action = (Remove ? "Remove its preview" : "Stop its preview") + (KeepAllocation ? "" : " and release its port");
                if (!ShouldProcess($"app {appId}", action)) continue;
                var stopped = new PreviewLauncher(Allocator).Stop(appId, Remove, KeepAllocation, Log, CancellationToken);
                if (stopped == null)
                {
                    WriteError(new DyadPortsException(ErrorIds.AppIdNotFound, FailureCategory.ObjectNotFound, appId,
                        $"App '{appId}' has no preview and no allocation to stop."));
                    continue;
                }
                if (PassThru) WriteObject(stopped);
            }
        }
    }
}
