using System.Management.Automation;
using DyadPorts.Completion;
using DyadPorts.Core.Allocation;
using DyadPorts.Infrastructure;

namespace DyadPorts.Commands
{
    /// <summary>Gives an app a host port that the engine, the host and the other apps all leave free.</summary>
    [Cmdlet(VerbsLifecycle.Request, "DyadPort", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(PortAllocation))]
    public sealed class RequestDyadPortCommand : EngineCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateAppId]
        [ArgumentCompleter(typeof(AppIdCompleter))]
        [Alias("Name")]
        public string AppId { get; set; }

        /// <summary>Re-choose from the start of the range instead of keeping the app's still-free port (the seed's forceNew).</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>FIRST-LAST, inclusive. Default: DYAD_PORT_RANGE, else 32100-32200.</summary>
        [Parameter]
        public string PortRange { get; set; }

        protected override void Process()
        {
            var range = Settings.RangeOr(PortRange);
            if (!ShouldProcess($"app {AppId}", $"Allocate a port in {range}")) return;
            WriteObject(Allocator.Request(AppId, range, Force, Log, CancellationToken));
        }
    }
}
