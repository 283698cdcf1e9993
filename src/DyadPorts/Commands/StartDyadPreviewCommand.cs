using System;
using System.Management.Automation;
using DyadPorts.Completion;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Previews;
using DyadPorts.Core.Session;
using DyadPorts.Infrastructure;

namespace DyadPorts.Commands
{
    /// <summary>Starts an app's preview on a port that really is free, and waits until it answers HTTP.</summary>
    [Cmdlet(VerbsLifecycle.Start, "DyadPreview", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(Preview))]
    public sealed class StartDyadPreviewCommand : EngineCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateAppId]
        [ArgumentCompleter(typeof(AppIdCompleter))]
        [Alias("Name")]
        public string AppId { get; set; }

        /// <summary>
        /// The app folder, mounted at /app (container) or used as working directory (process). Default: the current location.
        /// For a remote engine it is a path on the engine's host.
        /// </summary>
        [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName")]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; }

        /// <summary>Container image. Default: DYAD_PREVIEW_IMAGE, else node:22-alpine.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string Image { get; set; }

        /// <summary>One string runs through sh -c; several elements run as program and arguments. PORT is in the environment.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[] Command { get; set; }

        [Parameter]
        public string PortRange { get; set; }

        /// <summary>How many ports to try when the engine refuses one that was taken after the check.</summary>
        [Parameter]
        [ValidateRange(1, 100)]
        public int MaxRetries { get; set; } = 5;

        /// <summary>Remove stale DyadPorts containers that hold the wanted port. Default: AUTO_KILL_PORT.</summary>
        [Parameter]
        public SwitchParameter AutoKillPort { get; set; }

        [Parameter]
        [ValidateRange(1, 86400)]
        public int TimeoutSec { get; set; } = 60;

        /// <summary>Return once the preview is started, without waiting for it to answer.</summary>
        [Parameter]
        public SwitchParameter NoWait { get; set; }

        protected override void Process()
        {
            var range = Settings.RangeOr(PortRange);
            // As given: which host the folder is on (and so how to resolve it) is known only once the engine is.
            var shown = string.IsNullOrEmpty(Path) ? SessionState.Path.CurrentFileSystemLocation.ProviderPath : Path;
            // Asked before the engine is resolved: -WhatIf and -Confirm never reach an engine.
            if (!ShouldProcess($"app {AppId}", $"Start a preview of '{shown}' on a free port in {range}")) return;
            var request = new PreviewRequest
            {
                AppId = AppId,
                Path = AppFolderPath(),
                Image = Image ?? Settings.Image,
                Command = Command,
                Range = range,
                MaxRetries = MaxRetries,
                AutoKillPort = MyInvocation.BoundParameters.ContainsKey(nameof(AutoKillPort)) ? AutoKillPort.IsPresent : Settings.AutoKillPort,
                Timeout = TimeSpan.FromSeconds(TimeoutSec),
                NoWait = NoWait,
                Limits = Settings.Limits,
            };
            WriteObject(new PreviewLauncher(Allocator).Start(request, Log, CancellationToken));
        }

        /// <summary>
        /// The app folder as the engine's host names it. A local engine's is resolved here (a relative path, a PowerShell
        /// drive). A remote engine mounts a folder of its own host: a given -Path goes as given (this machine's location, or
        /// its C:\ for /, means nothing there; the launcher refuses one that is not absolute), and without one this
        /// machine's current location is sent as it is, with a warning.
        /// </summary>
        private string AppFolderPath()
        {
            var current = SessionState.Path.CurrentFileSystemLocation.ProviderPath;
            if (EngineHost.IsLocal(Allocator.Endpoint))
            {
                return FileSystemPath(string.IsNullOrEmpty(Path) ? current : Path, e => new DyadPortsException(ErrorIds.PreviewPathNotFound, FailureCategory.ObjectNotFound, Path,
                    $"App {AppId}: -Path '{Path}' names no folder of this machine: {e.Message}", e));
            }
            if (!string.IsNullOrEmpty(Path)) return Path;
            WriteWarning($"App {AppId}: no -Path, so this machine's current location '{current}' is sent to the remote engine at '{Allocator.Endpoint}' " +
                         "as a folder of its own host. Give -Path as the app folder's absolute path on that host.");
            return current;
        }
    }
}
