using System;

namespace DyadPorts.Core.Agent
{
    /// <summary>The process at an agent's socket is not one to ask: it runs as another user (<see cref="AgentExchange"/>).</summary>
    internal sealed class AgentRefusedException : Exception
    {
        public AgentRefusedException(string message) : base(message)
        {
        }
    }
}
