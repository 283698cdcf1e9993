using System;
using System.Linq;
using System.Management.Automation;
using DyadPorts.Completion;
using DyadPorts.Core.Session;
using DyadPorts.Infrastructure;

namespace DyadPorts.Commands
{
    /// <summary>Reads the journal of DyadPorts' decisions, oldest first: allocations, moves, races, previews, recoveries.</summary>
    [Cmdlet(VerbsCommon.Get, "DyadPortHistory")]
    [OutputType(typeof(PortEvent))]
    public sealed class GetDyadPortHistoryCommand : DyadPortsCmdlet
    {
        /// <summary>Only events of these apps; wildcards allowed.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(AppIdCompleter))]
        [Alias("Name")]
        public string[] AppId { get; set; }

        /// <summary>Only events at or after this time.</summary>
        [Parameter]
        public DateTime Since { get; set; }

        /// <summary>Only events of these kinds.</summary>
        [Parameter]
        public PortEventKind[] Kind { get; set; }

        /// <summary>Only the newest N events (still written oldest first).</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int Last { get; set; }

        private readonly System.Collections.Generic.List<string> _appIds = new System.Collections.Generic.List<string>();

        protected override void Process()
        {
            if (AppId != null) _appIds.AddRange(AppId);
        }

        protected override void End()
        {
            var patterns = AppIdPatterns.Of(_appIds, MyInvocation.ExpectingInput, WriteError);
            if (!patterns.CanMatch) return;
            var since = MyInvocation.BoundParameters.ContainsKey(nameof(Since)) ? new DateTimeOffset(Since.ToUniversalTime()) : (DateTimeOffset?)null;
            var events = Session.History(Settings, Log, CancellationToken)
                .Where(e => patterns.Matches(e.AppId))
                .Where(e => since == null || e.Time >= since)
                .Where(e => Kind == null || Kind.Contains(e.Kind))
                .ToList();
            if (Last > 0 && events.Count > Last) events = events.Skip(events.Count - Last).ToList();
            foreach (var e in events) WriteObject(e);
        }
    }
}
