using System.Management.Automation;
using DyadPorts.Core.Agent;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Infrastructure;

namespace DyadPorts.Commands
{
    /// <summary>
    /// Asks the DyadPorts agent at each socket for its status (Start-DyadPortAgent): its process, when it began to listen,
    /// what it answered and declined, and each endpoint whose view it keeps, with whether that view answers now. Asks no
    /// engine and reads no state. A socket with no agent, another user's, or one that does not answer is a non-terminating
    /// error for that socket.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "DyadPortAgent")]
    [OutputType(typeof(AgentInfo))]
    public sealed class GetDyadPortAgentCommand : DyadPortsCmdlet
    {
        /// <summary>The agents' sockets. Default: DYAD_PORTS_AGENT, else the per-user default (where commands look).</summary>
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; }

        protected override void Process()
        {
            ForEachInput(Path ?? new string[] { null }, path => WriteObject(AgentStatusQuery.Ask(SocketOf(path), CancellationToken)));
        }

        private string SocketOf(string path) => path == null
            ? Settings.AgentPath ?? throw AgentSocket.NoDefault(Settings.Environment)
            : FileSystemPath(path, e => new DyadPortsException(ErrorIds.AgentNotRunning, FailureCategory.ObjectNotFound, path,
                $"No DyadPorts agent runs at '{path}': it names no file-system path ({e.Message}).", e));
    }
}
