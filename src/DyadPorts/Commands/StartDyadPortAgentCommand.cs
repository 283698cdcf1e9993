using System;
using System.Diagnostics;
using System.Management.Automation;
using System.Runtime.InteropServices;
using System.Threading;
using DyadPorts.Core.Agent;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Infrastructure;

namespace DyadPorts.Commands
{
    /// <summary>
    /// Runs the DyadPorts agent in this process until stopped (Ctrl+C, or its process ended by its id): it keeps a live,
    /// event-fed view of the engine and lends it over a unix socket to one-shot commands in other processes of this user,
    /// which then read it instead of listing every container. Writes an AgentStatus once it listens and its view answers.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Start, "DyadPortAgent", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(AgentStatus))]
    public sealed class StartDyadPortAgentCommand : EngineCmdlet
    {
        /// <summary>How long the agent waits for its first view to answer before it writes its status all the same.</summary>
        private static readonly TimeSpan LiveWithin = TimeSpan.FromSeconds(30);

        /// <summary>The socket to listen at. Default: DYAD_PORTS_AGENT, else the per-user default.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; }

        protected override void End()
        {
            if (!AgentSocket.Supported) throw AgentSocket.Unsupported(Path ?? AgentSocket.Variable);
            var path = Path != null
                ? FileSystemPath(Path, e => new DyadPortsException(ErrorIds.AgentSocketInvalid, FailureCategory.InvalidArgument, Path, $"-Path '{Path}' names no file-system path: {e.Message}", e))
                : Settings.AgentPath ?? throw AgentSocket.NoDefault(Settings.Environment);
            // Asked before the engine is resolved: -WhatIf and a declined -Confirm reach no engine (no ping, no /version).
            var engine = EngineEndpoint != null ? $"the engine at {EngineEndpoint}" : Engine == EngineKind.Auto ? "the engine this session's environment names" : $"the {Engine} engine";
            if (!ShouldProcess(path, $"Listen for DyadPorts commands, and lend them a live view of {engine}")) return;
            var (client, kind) = Session.FollowedEngine(Engine, EngineEndpoint, CancellationToken);
            using var agent = new EngineAgent(path);
            agent.Listen();
            // SIGTERM (systemd's stop, a plain kill) ends the agent as Ctrl+C does, and the command then ends normally: the
            // socket is removed, and the process exits 0.
            var terminated = 0;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(CancellationToken);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                Interlocked.Exchange(ref terminated, 1);
                try
                {
                    stop.Cancel();
                }
                catch (ObjectDisposedException)
                {
                    // the agent ended meanwhile: nothing left to stop
                }
            });
            try
            {
                agent.Follow(client.Endpoint, kind, client.Tls);
                var serving = agent.RunAsync(stop.Token);
                var waited = Stopwatch.StartNew();
                while (!agent.IsLive(client.Endpoint) && waited.Elapsed < LiveWithin && !serving.IsCompleted)
                {
                    stop.Token.WaitHandle.WaitOne(50);
                    stop.Token.ThrowIfCancellationRequested();
                }
                var live = agent.IsLive(client.Endpoint);
                Log.Verbose(live
                    ? $"The agent's view of {client.Endpoint} answers ({waited.ElapsedMilliseconds} ms)."
                    : $"The agent's view of {client.Endpoint} did not answer within {LiveWithin.TotalSeconds} s; commands list until it does.");
                WriteObject(new AgentStatus(path, Environment.ProcessId, client.Endpoint, kind, live));
                serving.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (Volatile.Read(ref terminated) == 1)
            {
                Log.Verbose($"The agent at {path} stopped on SIGTERM ({agent.Answered} answered, {agent.Declined} declined).");
            }
        }
    }
}
