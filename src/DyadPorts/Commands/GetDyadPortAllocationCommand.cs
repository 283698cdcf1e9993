using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using DyadPorts.Completion;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Infrastructure;

namespace DyadPorts.Commands
{
    /// <summary>Lists allocations, each reconciled with what runs now: Active, Reserved, Stale or Conflict.</summary>
    [Cmdlet(VerbsCommon.Get, "DyadPortAllocation")]
    [OutputType(typeof(PortAllocation))]
    public sealed class GetDyadPortAllocationCommand : EngineCmdlet
    {
        private readonly List<string> _appIds = new List<string>();

        /// <summary>AppIds to show; wildcards allowed. All when omitted.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(AppIdCompleter))]
        [Alias("Name")]
        public string[] AppId { get; set; }

        protected override void Process()
        {
            if (AppId != null) _appIds.AddRange(AppId);
        }

        // Gathered first so that many piped ids cost one engine snapshot.
        protected override void End()
        {
            var patterns = AppIdPatterns.Of(_appIds, MyInvocation.ExpectingInput, WriteError);
            if (!patterns.CanMatch) return;
            // Another host that cannot be reached: its records come back Unknown, with one non-terminating error for that host.
            var found = Allocator.Get(patterns.Matches, Log, WriteError, CancellationToken);
            foreach (var allocation in found.OrderBy(a => a.Port)) WriteObject(allocation);

            foreach (var literal in _appIds.Where(id => !WildcardPattern.ContainsWildcardCharacters(id)))
            {
                if (!found.Any(a => string.Equals(a.AppId, literal, System.StringComparison.OrdinalIgnoreCase)))
                {
                    WriteError(new DyadPortsException(ErrorIds.AppIdNotFound, FailureCategory.ObjectNotFound, literal,
                        $"No port is allocated to app '{literal}'. Get-DyadPortAllocation lists the apps that have one."));
                }
            }
        }
    }
}
