using System.Management.Automation;

namespace FloorModule
{
    /// <summary>What Request-DyadPort shows: six properties, the first four set.</summary>
    public sealed class FloorAllocation
    {
        public string AppId { get; set; }
        public int Port { get; set; }
        public string Status { get; set; }
        public string Engine { get; set; }
        public string Host { get; set; }
        public string HeldBy { get; set; }
    }

    /// <summary>
    /// Request-DyadPort's parameters and ShouldProcess, with none of its work: what PowerShell itself costs a binary
    /// module's first cmdlet call in a fresh process (binding, ShouldProcess, one typed object out).
    /// </summary>
    [Cmdlet(VerbsLifecycle.Request, "FloorPort", SupportsShouldProcess = true)]
    [OutputType(typeof(FloorAllocation))]
    public sealed class RequestFloorPortCommand : PSCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string AppId { get; set; }

        [Parameter]
        public string PortRange { get; set; }

        [Parameter]
        public string Engine { get; set; }

        [Parameter]
        public string EngineEndpoint { get; set; }

        protected override void ProcessRecord()
        {
            if (!ShouldProcess($"app {AppId}", $"Allocate a port in {PortRange}")) return;
            WriteObject(new FloorAllocation { AppId = AppId, Port = 32100, Status = "Active", Engine = Engine ?? "Docker" });
        }
    }
}
