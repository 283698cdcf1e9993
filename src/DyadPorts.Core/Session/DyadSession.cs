using System;
using System.Collections.Concurrent;
using System.IO;
using System.Threading;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Ledger;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Session
{
    /// <summary>
    /// The module's one session, shared by every cmdlet, runspace and thread of the process:
    /// one Docker.DotNet client per engine endpoint, reused across calls. Configuration is read
    /// from the environment at each call, so a changed $env:DYAD_PORTS_STATE takes effect at once.
    /// </summary>
    public sealed class DyadSession
    {
        public static readonly DyadSession Current = new DyadSession(System.Environment.GetEnvironmentVariable);

        private readonly ConcurrentDictionary<string, ContainerEngine> _engines = new ConcurrentDictionary<string, ContainerEngine>(StringComparer.Ordinal);

        public DyadSession(Func<string, string> environment)
        {
            Environment = environment;
        }

        public Func<string, string> Environment { get; }

        /// <summary>The settings of one command, resolved from this session's environment.</summary>
        public DyadSettings Settings() => new DyadSettings(Environment);

        /// <summary>The history of the state the settings name (no engine is needed to read it).</summary>
        public static System.Collections.Generic.IReadOnlyList<PortEvent> History(DyadSettings settings, IOperationLog log) =>
            new FileLedger(new StateStore(settings.StatePath), null).History(log);

        public StateStore Store() => new StateStore(StateStore.ResolvePath(Environment));

        public EngineTarget Resolve(EngineKind engine, string endpoint) =>
            EngineResolver.Resolve(engine, endpoint, Environment, SocketAnswers);

        /// <summary>An allocator over the resolved engine. Explicitly chosen engines must answer; Auto falls back to the process engine with a warning.</summary>
        public PortAllocator Allocator(EngineKind engine, string endpoint, IOperationLog log, CancellationToken cancellationToken) =>
            Allocator(Settings(), engine, endpoint, log, cancellationToken);

        /// <summary>
        /// The parts of one command, put together here and nowhere else: the engine's snapshots, the file ledger with
        /// its recovery (the command's own engine, or one found only when a rebuild is needed), and the host probe.
        /// </summary>
        public PortAllocator Allocator(DyadSettings settings, EngineKind engine, string endpoint, IOperationLog log, CancellationToken cancellationToken)
        {
            var target = Resolve(engine, endpoint);
            if (!target.IsContainerEngine)
            {
                if (!target.IsExplicit)
                {
                    log.Warning("No container engine answered on the default sockets; using the process engine, which checks host sockets and allocations only. " +
                                "Set CONTAINERIZATION_ENGINE, DOCKER_HOST or -EngineEndpoint to use a container engine.");
                }
                log.Verbose($"Engine: Process ({target.Reason}).");
                return Compose(settings, new EngineSnapshots(null, EngineKind.Process), (l, ct) => FindRecoveryEngine(l, ct));
            }
            var client = Engine(target);
            var kind = client.Kind(cancellationToken);
            log.Verbose($"Engine: {kind} at {client.Endpoint} ({target.Reason}){(target.Tls == null ? "" : $", TLS files {target.Tls}")}.");
            return Compose(settings, new EngineSnapshots(client, kind), null);
        }

        /// <summary>
        /// For commands that only change the ledger (Remove-DyadPortAllocation): no engine is resolved unless the
        /// state must be rebuilt, and then the one <paramref name="engine"/>/<paramref name="endpoint"/> name.
        /// </summary>
        public PortAllocator LedgerOnly(DyadSettings settings, EngineKind engine, string endpoint, IOperationLog log) =>
            Compose(settings, new EngineSnapshots(null, EngineKind.Process), (l, ct) => Allocator(settings, engine, endpoint, l, ct).Engine);

        private PortAllocator Compose(DyadSettings settings, EngineSnapshots engine, Func<IOperationLog, CancellationToken, EngineSnapshots> findRecoveryEngine)
        {
            var store = new StateStore(settings.StatePath);
            var ledger = new FileLedger(store, new LabelledContainerRecovery(engine, findRecoveryEngine, store.Path));
            return new PortAllocator(ledger, engine, settings.HostProbe(engine.Endpoint)) { EngineFor = RecordEngine };
        }

        /// <summary>The client for an endpoint a record names (another host's), with the TLS files the environment or a context has for it.</summary>
        public ContainerEngine RecordEngine(string endpoint) =>
            Engine(new EngineTarget(EngineKind.Auto, endpoint, true, "an allocation's endpoint", EngineResolver.TlsFor(endpoint, Environment)));

        /// <summary>
        /// For rebuilding a state when the command itself runs without a container engine: the first container
        /// engine that answers (Auto, then podman's and docker's own rules), or null when none does.
        /// </summary>
        public EngineSnapshots FindRecoveryEngine(IOperationLog log, CancellationToken cancellationToken)
        {
            foreach (var kind in new[] { EngineKind.Auto, EngineKind.Podman, EngineKind.Docker })
            {
                EngineTarget target;
                try { target = Resolve(kind, null); }
                catch (DyadPortsException) { continue; }
                if (!target.IsContainerEngine || target.Endpoint == null) continue;
                var client = Engine(target);
                if (!client.Answers(cancellationToken)) continue;
                log.Verbose($"Rebuilding the state from the {target.Kind} engine at {client.Endpoint} ({target.Reason}).");
                return new EngineSnapshots(client, client.Kind(cancellationToken));
            }
            return null;
        }

        /// <summary>One client per endpoint and TLS files, reused for the life of the session.</summary>
        public ContainerEngine Engine(EngineTarget target) =>
            _engines.GetOrAdd(Key(target.Endpoint, target.Tls), _ => new ContainerEngine(target.Endpoint, target.Kind, target.Tls));

        private static string Key(string endpoint, EngineTls tls) => tls == null ? endpoint : endpoint + "|" + tls.CaPath + "|" + tls.CertPath + "|" + tls.KeyPath;

        /// <summary>Drops a client whose engine stopped answering, so the next call reconnects afresh.</summary>
        public void Forget(string endpoint)
        {
            if (endpoint == null) return;
            foreach (var key in _engines.Keys)
            {
                if ((key == endpoint || key.StartsWith(endpoint + "|", StringComparison.Ordinal)) && _engines.TryRemove(key, out var engine)) engine.Dispose();
            }
        }

        private bool SocketAnswers(string endpoint)
        {
            if (endpoint.StartsWith("unix://", StringComparison.Ordinal) && !File.Exists(endpoint.Substring("unix://".Length))) return false;
            var engine = _engines.GetOrAdd(endpoint, e => new ContainerEngine(e, EngineKind.Auto));
            return engine.Answers(CancellationToken.None);
        }
    }
}
