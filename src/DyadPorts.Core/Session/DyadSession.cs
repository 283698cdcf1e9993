using System;
using System.Collections.Concurrent;
using System.IO;
using System.Threading;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Ledger;
using DyadPorts.Core.Previews;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Session
{
    /// <summary>
    /// A session shared by every cmdlet, runspace and thread of the process (the module makes one: its composition
    /// root, src/DyadPorts/Infrastructure/ModuleSession.cs): one Docker.DotNet client per engine endpoint, reused across
    /// calls, and the fleet ledgers it was given (with their connections). Configuration is read from the environment
    /// at each call, so a changed $env:DYAD_PORTS_STATE takes effect at once.
    /// </summary>
    public sealed class DyadSession : IDisposable
    {
        // Lazy: a GetOrAdd race builds one client, not a second one nobody disposes.
        private readonly ConcurrentDictionary<string, Lazy<ContainerEngine>> _engines = new ConcurrentDictionary<string, Lazy<ContainerEngine>>(StringComparer.Ordinal);
        private readonly EngineResolution _resolution;
        private readonly Lazy<IFleetLedgers> _fleet;
        private readonly ConcurrentDictionary<string, Agent.AgentClient> _agents = new ConcurrentDictionary<string, Agent.AgentClient>(StringComparer.Ordinal);

        public DyadSession(Func<string, string> environment) : this(environment, null, null)
        {
        }

        /// <param name="system">The system sockets the default-socket rule probes; null for the usual ones.</param>
        public DyadSession(Func<string, string> environment, SystemSockets system) : this(environment, system, null)
        {
        }

        /// <param name="system">The system sockets the default-socket rule probes; null for the usual ones.</param>
        /// <param name="fleet">
        /// Makes the fleet ledgers, called once, when a command first uses an etcd state (so nothing of the fleet loads
        /// before); null for a session that refuses fleet states.
        /// </param>
        public DyadSession(Func<string, string> environment, SystemSockets system, Func<IFleetLedgers> fleet) : this(environment, system, fleet, null)
        {
        }

        /// <param name="viewClients">
        /// Makes the own client of an engine view (<see cref="EngineViews"/>) for a session client and its kind; null for
        /// a new client on the same endpoint and TLS files.
        /// </param>
        public DyadSession(Func<string, string> environment, SystemSockets system, Func<IFleetLedgers> fleet, Func<ContainerEngine, EngineKind, ContainerEngine> viewClients)
        {
            Views = new EngineViews(viewClients);
            Environment = environment;
            _resolution = new EngineResolution(environment, SocketAnswers, (machine, ct) => PodmanMachine.Inspect(machine, environment, ct), EngineFingerprint.FileStamp, system);
            _fleet = fleet == null ? null : new Lazy<IFleetLedgers>(fleet, LazyThreadSafetyMode.ExecutionAndPublication);
        }

        public Func<string, string> Environment { get; }

        /// <summary>
        /// The engine views this session follows (one per endpoint, each on its own client, started on the endpoint's
        /// second read while DYAD_PORTS_ENGINE_FEED is on). The bench reads <see cref="EngineViews.IsLive"/> and each view's calls.
        /// </summary>
        public EngineViews Views { get; }

        /// <summary>Ends the views' streams and background tasks. The session's clients stay usable until the process ends.</summary>
        public void Dispose() => Views.Dispose();

        /// <summary>
        /// The snapshots of a client as the settings say: through the session's views, else the agent's (DYAD_PORTS_AGENT),
        /// when the feed is on, and with the endpoint's configured-ports file in the settings' local folder
        /// (<see cref="ConfiguredPortsCache"/>).
        /// </summary>
        public EngineSnapshots Snapshots(DyadSettings settings, ContainerEngine client, EngineKind kind)
        {
            ArgumentNullException.ThrowIfNull(settings);
            var configuredPorts = client == null ? null : new ConfiguredPortsCache(settings.LocalFolder, client.Endpoint) { ReadOnly = settings.WritesNothing };
            var agent = client != null && settings.EngineFeed && settings.AgentPath is string path ? _agents.GetOrAdd(path, p => new Agent.AgentClient(p)) : null;
            agent?.Watch(client); // before the command can change a container
            return new EngineSnapshots(client, kind, settings.EngineFeed ? Views : null, configuredPorts, agent);
        }

        /// <summary>The settings of one command, resolved from this session's environment; <paramref name="writesNothing"/> under -WhatIf.</summary>
        public DyadSettings Settings(bool writesNothing = false) => new DyadSettings(Environment) { WritesNothing = writesNothing };

        /// <summary>The history of the state the settings name (no engine is needed to read it).</summary>
        public System.Collections.Generic.IReadOnlyList<PortEvent> History(DyadSettings settings, IOperationLog log, CancellationToken cancellationToken)
        {
            using var ledger = Ledger(settings, _ => null);
            return ledger.History(log, cancellationToken);
        }

        /// <summary>The state as stored, without locking, repairing or writing (for completion); null when there is nothing sound to read.</summary>
        public StateDocument Peek()
        {
            try
            {
                using var ledger = Ledger(Settings(), _ => null);
                return ledger.Peek();
            }
            catch (DyadPortsException)
            {
                return null;
            }
        }

        /// <summary>
        /// The ledger of the state the settings name: the file ledger, or the fleet's for an etcd location.
        /// <paramref name="recovery"/> makes the recovery for the location (given as text, for its messages).
        /// </summary>
        public IAllocationLedger Ledger(DyadSettings settings, Func<string, IStateRecovery> recovery)
        {
            ArgumentNullException.ThrowIfNull(settings);
            ArgumentNullException.ThrowIfNull(recovery);
            var location = settings.State;
            if (location.IsEtcd)
            {
                if (_fleet == null)
                {
                    throw new DyadPortsException(ErrorIds.StateLocationInvalid, FailureCategory.InvalidArgument, location.Text,
                        $"The state location '{location.Text}' names a fleet state on etcd, and this DyadPorts session was made without fleet support.");
                }
                return _fleet.Value.Open(location, settings, recovery(location.Text));
            }
            var store = new StateStore(location.Path);
            return new FileLedger(store, recovery(store.Path), settings.WritesNothing);
        }

        /// <summary>
        /// A ledger without recovery for a location a command is given (Copy-DyadPortState): a file path or an etcd URL.
        /// A source (<paramref name="mustExist"/>) that is a missing file is refused, never created.
        /// </summary>
        public IAllocationLedger OpenLedger(DyadSettings settings, string location, bool mustExist)
        {
            ArgumentNullException.ThrowIfNull(settings);
            return StateLedgers.Open(location, mustExist, _fleet == null ? null : text => _fleet.Value.Open(StateLocation.Of(text), settings, null), settings.WritesNothing);
        }

        /// <summary>The engine the rules choose; kept while nothing they read changes. Cancelling ends the pings and `podman machine inspect`.</summary>
        public EngineTarget Resolve(EngineKind engine, string endpoint, CancellationToken cancellationToken = default) =>
            _resolution.Resolve(engine, endpoint, ResolutionMode.Full, cancellationToken);

        /// <summary>As <see cref="Resolve(EngineKind, string, CancellationToken)"/>, and <paramref name="mode"/> says whether a process may be started.</summary>
        public EngineTarget Resolve(EngineKind engine, string endpoint, ResolutionMode mode, CancellationToken cancellationToken) =>
            _resolution.Resolve(engine, endpoint, mode, cancellationToken);

        /// <summary>An allocator over the resolved engine. Explicitly chosen engines must answer; Auto falls back to the process engine with a warning.</summary>
        public PortAllocator Allocator(EngineKind engine, string endpoint, IOperationLog log, CancellationToken cancellationToken) =>
            Allocator(Settings(), engine, endpoint, log, cancellationToken);

        /// <summary>
        /// The parts of one command, put together here and nowhere else: the engine's snapshots, the file ledger with
        /// its recovery (the command's own engine, or one found only when a rebuild is needed), and the host probe.
        /// </summary>
        public PortAllocator Allocator(DyadSettings settings, EngineKind engine, string endpoint, IOperationLog log, CancellationToken cancellationToken)
        {
            var target = Resolve(engine, endpoint, cancellationToken);
            if (!target.IsContainerEngine)
            {
                if (!target.IsExplicit)
                {
                    log.Warning("No container engine answered on the default sockets; using the process engine, which checks host sockets and allocations only. " +
                                "Set CONTAINERIZATION_ENGINE, DOCKER_HOST or -EngineEndpoint to use a container engine.");
                }
                log.Verbose($"Engine: Process ({target.Reason}).");
                return Compose(settings, new EngineSnapshots(null, EngineKind.Process), (l, ct) => FindRecoveryEngine(settings, l, ct));
            }
            var client = Engine(target);
            var kind = KindOf(target, client, cancellationToken);
            log.Verbose($"Engine: {kind} at {client.Endpoint} ({target.Reason}){(target.Tls == null ? "" : $", TLS files {target.Tls}")}.");
            return Compose(settings, Snapshots(settings, client, kind), null);
        }

        /// <summary>
        /// The container engine the rules choose and its kind, for a command that follows an engine and keeps no state
        /// (Start-DyadPortAgent): no ledger, no fallback to the process engine (AgentNeedsEngine).
        /// </summary>
        public (ContainerEngine Client, EngineKind Kind) FollowedEngine(EngineKind engine, string endpoint, CancellationToken cancellationToken)
        {
            var target = Resolve(engine, endpoint, cancellationToken);
            if (!target.IsContainerEngine)
            {
                throw new DyadPortsException(ErrorIds.AgentNeedsEngine, FailureCategory.InvalidArgument, endpoint ?? engine.ToString(),
                    $"The agent follows a container engine's containers, and the rules chose the process engine ({target.Reason}). Name one with -Engine or -EngineEndpoint.");
            }
            var client = Engine(target);
            return (client, KindOf(target, client, cancellationToken));
        }

        /// <summary>
        /// For commands that only change the ledger (Remove-DyadPortAllocation): no engine is resolved unless the
        /// state must be rebuilt, and then the one <paramref name="engine"/>/<paramref name="endpoint"/> name.
        /// </summary>
        public PortAllocator LedgerOnly(DyadSettings settings, EngineKind engine, string endpoint, IOperationLog log) =>
            Compose(settings, new EngineSnapshots(null, EngineKind.Process), (l, ct) => Allocator(settings, engine, endpoint, l, ct).Engine);

        private PortAllocator Compose(DyadSettings settings, EngineSnapshots engine, Func<IOperationLog, CancellationToken, EngineSnapshots> findRecoveryEngine)
        {
            var ledger = Ledger(settings, location => new LabelledContainerRecovery(engine, findRecoveryEngine, location));
            return new PortAllocator(ledger, engine, settings.HostProbe(engine.Endpoint))
            {
                EngineFor = RecordEngine,
                Views = engine.Engine != null && settings.EngineFeed ? Views : null,
                ProcessLogFolder = ProcessPreviewHost.LogFolderIn(settings.LocalFolder),
            };
        }

        /// <summary>The client for an endpoint a record names (another host's), with the TLS files the environment or a context has for it.</summary>
        public ContainerEngine RecordEngine(string endpoint) =>
            Engine(new EngineTarget(EngineKind.Auto, endpoint, true, "an allocation's endpoint", EngineResolver.TlsFor(endpoint, Environment)));

        /// <summary>
        /// For rebuilding a state when the command itself runs without a container engine: the first container
        /// engine that answers (Auto, then podman's and docker's own rules), or null when none does.
        /// </summary>
        public EngineSnapshots FindRecoveryEngine(DyadSettings settings, IOperationLog log, CancellationToken cancellationToken)
        {
            foreach (var kind in new[] { EngineKind.Auto, EngineKind.Podman, EngineKind.Docker })
            {
                EngineTarget target;
                try { target = Resolve(kind, null, cancellationToken); }
                catch (DyadPortsException) { continue; }
                if (!target.IsContainerEngine || target.Endpoint == null) continue;
                var client = Engine(target);
                if (!client.Answers(cancellationToken)) continue;
                EngineKind answered;
                try
                {
                    answered = KindOf(target, client, cancellationToken);
                }
                catch (DyadPortsException e) when (e.ErrorId == ErrorIds.EngineVersionRefused)
                {
                    // The command named no container engine, so its -Engine is no remedy here: the next rule's engine, if any.
                    log.Verbose($"Not rebuilding the state from {client.Endpoint}: {e.Message}");
                    continue;
                }
                log.Verbose($"Rebuilding the state from the {target.Kind} engine at {client.Endpoint} ({target.Reason}).");
                return Snapshots(settings, client, answered); // the command's: -WhatIf writes no cache
            }
            return null;
        }

        /// <summary>
        /// The engine's kind: the family the user named (-Engine, CONTAINERIZATION_ENGINE, CONTAINER_HOST, a podman
        /// connection) is taken as said, as it is with an explicit -EngineEndpoint; a kind the rules only inferred (a
        /// default socket that answered, DOCKER_HOST or a context without a family) is asked of the engine, once per
        /// client, since docker's socket may be podman's. Not asking saves a cold one-shot the /version call and its
        /// contract (docs/bench/oneshot-kind-2026-11-30.txt).
        /// </summary>
        private static EngineKind KindOf(EngineTarget target, ContainerEngine client, CancellationToken cancellationToken) =>
            target.IsExplicit && (target.Kind == EngineKind.Docker || target.Kind == EngineKind.Podman) ? target.Kind : client.Kind(cancellationToken);

        /// <summary>One client per endpoint and TLS files, shared by every runspace and reused for the life of the session.</summary>
        public ContainerEngine Engine(EngineTarget target) => Engine(target.Endpoint, target.Kind, target.Tls);

        private ContainerEngine Engine(string endpoint, EngineKind kind, EngineTls tls) =>
            _engines.GetOrAdd(ContainerEngine.ClientKey(endpoint, tls), _ => new Lazy<ContainerEngine>(() => new ContainerEngine(endpoint, kind, tls), LazyThreadSafetyMode.ExecutionAndPublication)).Value;

        /// <summary>
        /// An endpoint stopped answering: its clients reconnect on their next call, and resolutions that chose it probe
        /// again. Nothing is disposed under another runspace: a call under way finishes on the old connection.
        /// </summary>
        public void Forget(string endpoint)
        {
            if (endpoint == null) return;
            _resolution.Forget(endpoint);
            Views.Forget(endpoint);
            foreach (var entry in _engines)
            {
                if ((entry.Key == endpoint || entry.Key.StartsWith(endpoint + "|", StringComparison.Ordinal)) && entry.Value.IsValueCreated) entry.Value.Value.Reconnect();
            }
        }

        /// <summary>Whether the engine at a default socket answers a ping (at most 3 s, less when the token says so).</summary>
        private bool SocketAnswers(string endpoint, CancellationToken cancellationToken)
        {
            if (endpoint.StartsWith("unix://", StringComparison.Ordinal) && !File.Exists(endpoint.Substring("unix://".Length))) return false;
            return Engine(endpoint, EngineKind.Auto, null).Answers(cancellationToken);
        }
    }
}
