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
    [Cmdlet(VerbsDiagnostic.Test, "DyadPortAvailable", DefaultParameterSetName = SimpleSet)]
    [OutputType(typeof(bool), ParameterSetName = new[] { SimpleSet })]
    [OutputType(typeof(PortStatus), ParameterSetName = new[] { DetailedSet })]
    public sealed class TestDyadPortAvailableCommand : EngineCmdlet
    {
        private const string SimpleSet = "Simple";
        private const string DetailedSet = "Detailed";
        private readonly List<int> _ports = new List<int>();

        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(PortCompleter))]
        public int[] Port { get; set; }

        /// <summary>Return a PortStatus that names the holder, instead of a bool.</summary>
        [Parameter(Mandatory = true, ParameterSetName = DetailedSet)]
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
