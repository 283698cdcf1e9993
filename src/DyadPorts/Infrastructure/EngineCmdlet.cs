using System.Management.Automation;
using DyadPorts.Core.Allocation;

namespace DyadPorts.Infrastructure
{
    /// <summary>A cmdlet that checks ports against an engine: adds -Engine and -EngineEndpoint.</summary>
    public abstract class EngineCmdlet : DyadPortsCmdlet
    {
        private PortAllocator _allocator;
        private PortAllocator _ledgerOnly;

        /// <summary>Auto (default) follows the environment and then whichever default socket answers.</summary>
        [Parameter]
        public EngineKind Engine { get; set; } = EngineKind.Auto;

        /// <summary>The engine's API endpoint, e.g. unix:///run/podman/podman.sock. Wins over the environment.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string EngineEndpoint { get; set; }

        /// <summary>Resolved once per command invocation, on first use: importing the module calls no engine.</summary>
        protected PortAllocator Allocator => _allocator ?? (_allocator = Session.Allocator(Settings, Engine, EngineEndpoint, Log, CancellationToken));

        /// <summary>
        /// For a command that only changes the ledger: no engine is resolved unless the state must be rebuilt, and then the
        /// one -Engine/-EngineEndpoint name (<see cref="Core.Session.DyadSession.LedgerOnly"/>). Resolved once, on first use.
        /// </summary>
        protected PortAllocator LedgerOnlyAllocator => _ledgerOnly ??= Session.LedgerOnly(Settings, Engine, EngineEndpoint, Log);

        /// <summary>
        /// The command's ledgers end with it: an etcd ledger revokes the session lease a start's reservation lived under
        /// (a reservation no start confirmed goes at once, not after the lease's TTL), and its keep-alive stops, instead of
        /// running for as long as the shell does. The client and the connection are the session's, and stay.
        /// </summary>
        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _allocator?.Ledger.Dispose();
                _ledgerOnly?.Ledger.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
