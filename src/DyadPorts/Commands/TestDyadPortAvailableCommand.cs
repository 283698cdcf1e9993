using System.Collections.Generic;
using System.Management.Automation;
using DyadPorts.Completion;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Infrastructure;

namespace DyadPorts.Commands
{
    /// <summary>
    /// Says whether host ports are free: no container (running or not), host listener or allocation holds them.
    /// Piped ports are gathered and checked against one engine snapshot.
    /// </summary>
    /// <remarks>
    /// One parameter set: <c>-Detailed:$false</c> is no -Detailed, as PowerShell's switches are meant to be (a script
    /// passes <c>-Detailed:$wantDetails</c>). With a set of its own, a switch given as false chose that set all the same.
    /// </remarks>
    [Cmdlet(VerbsDiagnostic.Test, "DyadPortAvailable")]
    [OutputType(typeof(bool), typeof(PortStatus))]
    public sealed class TestDyadPortAvailableCommand : EngineCmdlet
    {
        private readonly List<int> _ports = new List<int>();

        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(PortCompleter))]
        public int[] Port { get; set; }

        /// <summary>Return a PortStatus that names the holder, instead of a bool.</summary>
        [Parameter]
        public SwitchParameter Detailed { get; set; }

        protected override void Process()
        {
            foreach (var port in Port)
            {
                try
                {
                    PortRange.EnsurePort(port, port);
                    _ports.Add(port);
                }
                catch (DyadPortsException e)
                {
                    WriteError(e); // one bad port does not stop the others
                }
            }
        }

        protected override void End()
        {
            if (_ports.Count == 0) return;
            foreach (var status in Allocator.Test(_ports, Log, CancellationToken))
            {
                if (Detailed) WriteObject(status);
                else WriteObject(status.Available);
            }
        }
    }
}
