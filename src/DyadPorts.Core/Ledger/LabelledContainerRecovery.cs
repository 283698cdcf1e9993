using System;
using System.Linq;
using System.Threading;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Ledger
{
    /// <summary>
    /// The one way a missing or unreadable state is rebuilt: from the containers labelled dyadports.state=&lt;id&gt;
    /// on an engine. The command's own engine is used (its latest snapshot when it has one, so recovery costs no
    /// extra call); a command without a container engine (the process engine, Remove-DyadPortAllocation) is given a
    /// finder that resolves one only when recovery is needed. Other states' containers are never taken.
    /// </summary>
    public sealed class LabelledContainerRecovery : IStateRecovery
    {
        private readonly EngineSnapshots _engine;
        private readonly Func<IOperationLog, CancellationToken, EngineSnapshots> _find;
        private readonly string _location;

        /// <param name="engine">The command's engine; null or the process engine to use <paramref name="find"/>.</param>
        /// <param name="find">Finds an engine that answers, or returns null; asked only when a rebuild is needed.</param>
        /// <param name="location">The state's location, for the error when no engine answers.</param>
        public LabelledContainerRecovery(EngineSnapshots engine, Func<IOperationLog, CancellationToken, EngineSnapshots> find, string location)
        {
            _engine = engine;
            _find = find;
            _location = location;
        }

        public StateDocument Rebuild(StateIdentity identity, IOperationLog log, CancellationToken cancellationToken)
        {
            if (_engine?.Engine != null) return Rebuild(_engine.LatestOrTake(log, cancellationToken), _engine, identity);
            EngineSnapshots found = null;
            try
            {
                found = _find?.Invoke(log, cancellationToken);
            }
            catch (DyadPortsException e) when (e.ErrorId == ErrorIds.EngineUnreachable)
            {
                log.Verbose($"No engine to rebuild the state from: {e.Message}");
            }
            if (found?.Engine != null) return Rebuild(found.Take(log, cancellationToken), found, identity);
            throw new DyadPortsException(ErrorIds.StateFileCorrupt, FailureCategory.ResourceUnavailable, _location,
                $"The DyadPorts state '{_location}' must be rebuilt from the engine's DyadPorts-labelled containers, but no container engine answers. " +
                "It was left exactly as it is. Start the engine (or point DOCKER_HOST / -EngineEndpoint at it) and run the command again, or move the file aside to start from an empty state.");
        }

        /// <summary>
        /// A state of this state's labelled containers in <paramref name="snapshot"/> (its own id's and its adopted ids');
        /// running ones win a port.
        /// </summary>
        internal static StateDocument Rebuild(EngineSnapshot snapshot, EngineSnapshots engine, StateIdentity identity)
        {
            var document = new StateDocument();
            identity.Stamp(document);
            foreach (var container in EngineSnapshot.RunningFirst(snapshot.Containers.Where(c => c.AppId != null && document.Owns(c.StateId))))
            {
                var port = container.TcpHostPorts.Cast<int?>().FirstOrDefault();
                if (port == null || document.Allocations.ContainsKey(container.AppId) || AppIds.Problem(container.AppId) != null) continue;
                if (document.Allocations.Values.Any(r => r.Port == port)) continue; // every record here is on this engine's host
                document.Allocations[container.AppId] = new AllocationRecord
                {
                    AppId = container.AppId,
                    Port = port.Value,
                    Engine = engine.Kind,
                    EngineEndpoint = engine.Endpoint,
                    AllocatedAt = container.Created ?? DateTimeOffset.UtcNow,
                    ContainerId = container.Id,
                    Image = container.Image,
                    ClaimRevision = container.ClaimRevision, // the claim it was started under (a file state's; etcd's come from its keys)
                };
            }
            // A file state's next claim is newer than every claim its containers carry.
            document.ClaimSequence = snapshot.Containers.Where(c => document.Owns(c.StateId)).Select(c => c.ClaimRevision ?? 0).DefaultIfEmpty(0).Max();
            return document;
        }
    }
}
