using System;
using System.Collections.Generic;
using System.Threading;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Ledger;
using DyadPorts.Core.Previews;
using DyadPorts.Core.State;

namespace DyadPorts.Tests.Support
{
    /// <summary>
    /// Moments inside a start, for tests that must change the world there, as decorators of the launcher's real
    /// parts (production types carry no hooks): <see cref="BeforeLaunch"/> runs when the launcher asks its host to
    /// launch on a reserved port; <see cref="AfterLaunch"/> runs once that launch returned, just before the
    /// launcher's next ledger transaction (the one that records the preview).
    /// </summary>
    internal sealed class StartHooks
    {
        private int? _launched;

        public Action<int> BeforeLaunch { get; set; }
        public Action<int> AfterLaunch { get; set; }

        /// <summary>A launcher over <paramref name="allocator"/>'s engine and ledger, with these hooks in place.</summary>
        public PreviewLauncher Wrap(PortAllocator allocator)
        {
            var hooked = new PortAllocator(new Ledger(allocator.Ledger, this), allocator.Engine) { EngineFor = allocator.EngineFor };
            return new PreviewLauncher(hooked, new Host(PreviewHosts.For(allocator), this), PreviewHosts.Processes(allocator));
        }

        private sealed class Ledger : LedgerDecorator
        {
            private readonly StartHooks _hooks;

            public Ledger(IAllocationLedger inner, StartHooks hooks) : base(inner)
            {
                _hooks = hooks;
            }

            public override T Transact<T>(LedgerTransaction<T> transaction, IOperationLog log, CancellationToken cancellationToken)
            {
                if (_hooks._launched is int port)
                {
                    _hooks._launched = null;
                    _hooks.AfterLaunch?.Invoke(port);
                }
                return Inner.Transact(transaction, log, cancellationToken);
            }
        }

        private sealed class Host : IPreviewHost
        {
            private readonly IPreviewHost _inner;
            private readonly StartHooks _hooks;

            public Host(IPreviewHost inner, StartHooks hooks)
            {
                _inner = inner;
                _hooks = hooks;
            }

            public EngineKind Kind => _inner.Kind;

            public LaunchedPreview Launch(PreviewRequest request, int port, string stateId, IOperationLog log, CancellationToken ct)
            {
                _hooks.BeforeLaunch?.Invoke(port);
                var launched = _inner.Launch(request, port, stateId, log, ct);
                _hooks._launched = port;
                return launched;
            }

            public Preview ReuseOrClear(string appId, StateDocument state, EngineSnapshot snapshot, IOperationLog log, CancellationToken ct, out bool cleared) =>
                _inner.ReuseOrClear(appId, state, snapshot, log, ct, out cleared);

            public void Prepare(PreviewRequest request, IOperationLog log, CancellationToken ct) => _inner.Prepare(request, log, ct);
            public bool StillRunning(LaunchedPreview preview, CancellationToken ct) => _inner.StillRunning(preview, ct);
            public string Logs(LaunchedPreview preview, CancellationToken ct) => _inner.Logs(preview, ct);
            public void Discard(LaunchedPreview preview, string stateId, IOperationLog log) => _inner.Discard(preview, stateId, log);
            public Preview Describe(LaunchedPreview preview, CancellationToken ct) => _inner.Describe(preview, ct);

            public Preview Stop(string appId, AllocationRecord record, StateDocument state, EngineSnapshot snapshot, bool remove, IOperationLog log, CancellationToken ct) =>
                _inner.Stop(appId, record, state, snapshot, remove, log, ct);

            public ICollection<string> Reclaim(IReadOnlyList<(int Port, ContainerSummary Container)> orphans, IOperationLog log, CancellationToken ct) =>
                _inner.Reclaim(orphans, log, ct);
        }
    }
}
