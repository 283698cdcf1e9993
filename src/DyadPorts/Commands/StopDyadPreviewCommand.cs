using System.Management.Automation;
using DyadPorts.Completion;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Previews;
using DyadPorts.Infrastructure;

namespace DyadPorts.Commands
{
    /// <summary>Stops an app's preview (only containers DyadPorts created) and releases its port.</summary>
    [Cmdlet(VerbsLifecycle.Stop, "DyadPreview", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = AppSet)]
    [OutputType(typeof(Preview))]
    public sealed class StopDyadPreviewCommand : EngineCmdlet
    {
        private const string AppSet = "AppId";
        private const string IdleSet = "Idle";

        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = AppSet)]
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = IdleSet)]
        [ValidateAppId]
        [ArgumentCompleter(typeof(AppIdCompleter))]
        [Alias("Name")]
        public string[] AppId { get; set; }

        /// <summary>The idle reaper: stop only previews whose traffic has not changed for at least this long.</summary>
        [Parameter(Mandatory = true, ParameterSetName = IdleSet)]
        public System.TimeSpan IdleFor { get; set; }

        private readonly System.Collections.Generic.List<string> _idleApps = new System.Collections.Generic.List<string>();

        /// <summary>Remove the container instead of only stopping it.</summary>
        [Parameter]
        public SwitchParameter Remove { get; set; }

        /// <summary>Keep the port allocated to the app.</summary>
        [Parameter]
        public SwitchParameter KeepAllocation { get; set; }

        /// <summary>Write what was stopped to the pipeline.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void Process()
        {
            if (ParameterSetName == IdleSet)
            {
                if (AppId != null) _idleApps.AddRange(AppId);
                return;
            }
            ForEachInput(AppId, appId =>
            {
                var action = (Remove ? "Remove its preview" : "Stop its preview") + (KeepAllocation ? "" : " and release its port");
                if (!ShouldProcess($"app {appId}", action)) return;
                var stopped = new PreviewLauncher(Allocator).Stop(appId, Remove, KeepAllocation, Log, CancellationToken);
                if (stopped == null)
                {
                    throw new DyadPortsException(ErrorIds.AppIdNotFound, FailureCategory.ObjectNotFound, appId,
                        $"App '{appId}' has no preview and no allocation to stop.");
                }
                if (PassThru) WriteObject(stopped);
            });
        }

        // The reaper looks at every preview once per run, so piped AppIds are gathered first.
        protected override void End()
        {
            if (ParameterSetName != IdleSet) return;
            if (IdleFor < System.TimeSpan.Zero)
            {
                throw new DyadPortsException(ErrorIds.InvalidIdleFor, FailureCategory.InvalidArgument, IdleFor, $"-IdleFor {IdleFor} is negative; give how long a preview must have served nothing, for example 00:10:00.");
            }
            // Fed by a pipeline that brought no AppId (a filter that matched nothing): no app, never every app.
            var everyApp = _idleApps.Count == 0;
            if (everyApp && MyInvocation.ExpectingInput)
            {
                WriteVerbose("No AppId came down the pipeline: no preview was looked at.");
                return;
            }
            // Under -WhatIf the command's ledger writes nothing (Settings.WritesNothing): the reaper then records no sample
            // either (and no cache file is written), so nothing at all changes.
            var reaper = new IdleReaper(Allocator);
            var stopped = reaper.Reap(IdleFor, id => everyApp || _idleApps.Contains(id), (appId, action) => ShouldProcess($"app {appId}", action),
                Remove, KeepAllocation, Log, CancellationToken, WriteError);
            if (PassThru) foreach (var preview in stopped) WriteObject(preview);
        }
    }
}
