using System.Threading;
using DyadPorts.Core.Diagnostics;

namespace DyadPorts.Core.Engines
{
    /// <summary>
    /// The engine as one command sees it: snapshots of one endpoint's containers, taken on demand, with the latest
    /// one kept so that recovery can reuse it instead of asking the engine again. A null engine is the process
    /// engine, which sees no containers. With the session's <see cref="EngineViews"/> (DYAD_PORTS_ENGINE_FEED on), a live
    /// view answers instead of a list call.
    /// </summary>
    public sealed class EngineSnapshots
    {
        private readonly EngineViews _views;
        private readonly ConfiguredPortsCache _configuredPorts;
        private readonly Agent.AgentClient _agent;

        public EngineSnapshots(ContainerEngine engine, EngineKind kind) : this(engine, kind, null)
        {
        }

        /// <param name="views">The session's engine views, or null for none (the feed off): every take lists.</param>
        public EngineSnapshots(ContainerEngine engine, EngineKind kind, EngineViews views) : this(engine, kind, views, null)
        {
        }

        /// <param name="configuredPorts">
        /// The file of the endpoint's configured port bindings that outlives the process (so a one-shot process inspects
        /// only the stopped containers no process has seen), or null for the client's memory alone.
        /// </param>
        public EngineSnapshots(ContainerEngine engine, EngineKind kind, EngineViews views, ConfiguredPortsCache configuredPorts) : this(engine, kind, views, configuredPorts, null)
        {
        }

        /// <param name="agent">
        /// The agent to ask where the session's own view is not live (a one-shot process: <see cref="Agent.EngineAgent"/>),
        /// or null for none.
        /// </param>
        public EngineSnapshots(ContainerEngine engine, EngineKind kind, EngineViews views, ConfiguredPortsCache configuredPorts, Agent.AgentClient agent)
        {
            _agent = agent;
            Engine = engine;
            Kind = kind;
            _views = views;
            _configuredPorts = configuredPorts;
        }

        public ContainerEngine Engine { get; }
        public EngineKind Kind { get; }
        public string Endpoint => Engine?.Endpoint;

        /// <summary>The snapshot taken last by this command; null before the first.</summary>
        public EngineSnapshot Latest { get; private set; }

        /// <summary>
        /// The live view's snapshot (no call, or one inspect per container the process changed), else the agent's, else one
        /// list call (none for the process engine).
        /// </summary>
        public EngineSnapshot Take(IOperationLog log, CancellationToken cancellationToken)
        {
            if (Engine == null) return EngineSnapshot.None;
            var viewed = _views?.Read(Engine, Kind, cancellationToken);
            if (viewed != null)
            {
                log.Verbose($"Engine {Kind} at {Engine.Endpoint}: {viewed.Containers.Count} container(s) in the session's view (every event it heard applied within {ViewTiming.FreshnessBound.TotalMilliseconds} ms; one its stream missed, at its next catch-up).");
                return Latest = viewed;
            }
            var lent = _agent?.Read(Engine, Kind, log, cancellationToken);
            if (lent != null) return Latest = lent;
            var snapshot = Engine.Snapshot(_configuredPorts, log, cancellationToken);
            log.Verbose($"Engine {Kind} at {Engine.Endpoint}: {snapshot.Containers.Count} container(s) listed.");
            return Latest = snapshot;
        }

        public EngineSnapshot LatestOrTake(IOperationLog log, CancellationToken cancellationToken) => Latest ?? Take(log, cancellationToken);
    }
}
