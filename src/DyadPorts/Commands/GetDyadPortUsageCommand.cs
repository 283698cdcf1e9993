using System.Management.Automation;
using DyadPorts.Infrastructure;

namespace DyadPorts.Commands
{
    /// <summary>The port range at a glance: a map of who holds each port, counts by holder and status, and recent moves and races.</summary>
    [Cmdlet(VerbsCommon.Get, "DyadPortUsage")]
    [OutputType(typeof(PortUsage))]
    public sealed class GetDyadPortUsageCommand : EngineCmdlet
    {
        /// <summary>FIRST-LAST, inclusive. Default: DYAD_PORT_RANGE, else 32100-32200.</summary>
        [Parameter(Position = 0)]
        public string PortRange { get; set; }

        protected override void End()
        {
            var range = Settings.RangeOr(PortRange);
            WriteObject(Allocator.Usage(range, Log, CancellationToken));
        }
    }
}
