using System.Threading;
using DyadPorts.Core.Diagnostics;

namespace DyadPorts.Core.Engines
{
    /// <summary>
    /// The engine as one command sees it: snapshots of one endpoint's containers, taken on demand, with the latest
    /// one kept so that recovery can reuse it instead of asking the engine again. A null engine is the process
    /// engine, which sees no containers.
    /// </summary>
    public sealed class EngineSnapshots
    {
        public EngineSnapshots(ContainerEngine engine, EngineKind kind)
        {
            Engine = engine;
            Kind = kind;
        }

        public ContainerEngine Engine { get; }
        public EngineKind Kind { get; }
        public string Endpoint => Engine?.Endpoint;

        /// <summary>The snapshot taken last by this command; null before the first.</summary>
        public EngineSnapshot Latest { get; private set; }

        /// <summary>One list call (none for the process engine).</summary>
        public EngineSnapshot Take(IOperationLog log, CancellationToken cancellationToken)
        {
            if (Engine == null) return EngineSnapshot.None;
            var snapshot = Engine.Snapshot(cancellationToken);
            log.Verbose($"Engine {Kind} at {Engine.Endpoint}: {snapshot.Containers.Count} container(s) listed.");
            return Latest = snapshot;
        }

        public EngineSnapshot LatestOrTake(IOperationLog log, CancellationToken cancellationToken) => Latest ?? Take(log, cancellationToken);
    }
}
