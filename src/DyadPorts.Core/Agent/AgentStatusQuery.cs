using System;
using System.IO;
using System.Net.Sockets;
using System.Threading;
using DyadPorts.Core.Diagnostics;

namespace DyadPorts.Core.Agent
{
    /// <summary>
    /// Get-DyadPortAgent's question: the status of the agent at a socket (<see cref="EngineAgent.Status"/>), over one
    /// exchange (<see cref="AgentExchange"/>), or the error that says why there is none. Each error is tied to that one
    /// socket: AgentNotRunning, AgentNotOwned or AgentNotAnswering, its target the path.
    /// </summary>
    public static class AgentStatusQuery
    {
        /// <summary>How long the whole exchange may take: as long as a command waits for the agent's view.</summary>
        public static TimeSpan AnswerTimeout => AgentClient.AnswerTimeout;

        public static AgentInfo Ask(string socketPath, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(socketPath);
            if (!AgentSocket.Supported) throw AgentSocket.Unsupported(socketPath);
            if (!File.Exists(socketPath))
            {
                throw new DyadPortsException(ErrorIds.AgentNotRunning, FailureCategory.ObjectNotFound, socketPath,
                    $"No DyadPorts agent runs at {socketPath}: there is nothing at that path. Start one with Start-DyadPortAgent -Path '{socketPath}'.");
            }
            try
            {
                return Decode(AgentExchange.Run(socketPath, AgentWire.StatusRequest(), AnswerTimeout, cancellationToken, out _), socketPath);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
            {
                throw new DyadPortsException(ErrorIds.AgentNotRunning, FailureCategory.ObjectNotFound, socketPath,
                    $"No DyadPorts agent runs at {socketPath}: nothing listens at the socket there (an agent that was killed leaves it; the next Start-DyadPortAgent at that path replaces it).", e);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.AccessDenied)
            {
                throw NotOwned(socketPath, "this user may not connect to its socket", e);
            }
            catch (AgentRefusedException e)
            {
                throw NotOwned(socketPath, e.Message, e);
            }
            catch (OperationCanceledException e)
            {
                throw new DyadPortsException(ErrorIds.AgentNotAnswering, FailureCategory.OperationTimeout, socketPath,
                    $"The DyadPorts agent at {socketPath} did not report its status within {AnswerTimeout.TotalMilliseconds} ms (stopped, or too busy).", e);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or SocketException)
            {
                throw new DyadPortsException(ErrorIds.AgentNotAnswering, FailureCategory.InvalidData, socketPath,
                    $"The process at {socketPath} answered no status this module reads ({e.Message}). An agent of DyadPorts 0.6.3 or older reports none: restart it with this version.", e);
            }
        }

        /// <summary>The status, or the agent's decline (past its connection limit it tells every asker to list, unread).</summary>
        private static AgentInfo Decode(byte[] frame, string socketPath)
        {
            try
            {
                return AgentWire.DecodeStatus(frame, socketPath);
            }
            catch (InvalidDataException) when (TryDecline(frame) is string reason)
            {
                throw new DyadPortsException(ErrorIds.AgentNotAnswering, FailureCategory.ResourceBusy, socketPath,
                    $"The DyadPorts agent at {socketPath} is too busy to report its status: {reason}. Ask again in a moment.");
            }
        }

        private static string TryDecline(byte[] frame)
        {
            try
            {
                var answer = AgentWire.DecodeAnswer(frame);
                return answer.Containers == null ? answer.Reason : null;
            }
            catch (InvalidDataException)
            {
                return null;
            }
        }

        private static DyadPortsException NotOwned(string socketPath, string why, Exception inner) =>
            new DyadPortsException(ErrorIds.AgentNotOwned, FailureCategory.PermissionDenied, socketPath,
                $"The process at {socketPath} is not this user's DyadPorts agent, so it was not asked: {why}", inner);
    }
}
