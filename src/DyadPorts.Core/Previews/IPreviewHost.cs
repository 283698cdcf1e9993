using System;
using System.Collections.Generic;
using System.Threading;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Previews
{
    /// <summary>A preview this start launched: enough to watch it, describe it, or take it down again.</summary>
    internal sealed class LaunchedPreview
    {
        public string AppId { get; set; }
        public int Port { get; set; }
        public string ContainerId { get; set; }
        public string ContainerName { get; set; }
        public string Image { get; set; }
        public System.Diagnostics.Process Process { get; set; }
        public int? ProcessId { get; set; }
        public DateTimeOffset? ProcessStartedAt { get; set; }
        /// <summary>Exact start in clock ticks since boot (Linux); see <see cref="AllocationRecord.ProcessStartTicks"/>.</summary>
        public long? ProcessStartTicks { get; set; }
        public string LogPath { get; set; }
    }

    /// <summary>The port was taken between the check and the start: the engine (or the last-moment probe) said so.</summary>
    internal sealed class PortTakenException : Exception
    {
        public PortTakenException(int port, string why) : base(why) => Port = port;
        public int Port { get; }
    }

    /// <summary>
    /// Where previews run: containers of one engine, or host processes. The launcher owns the flow (lock the
    /// app, reserve, launch, record, wait); a host knows only how to find, launch, watch and take down its kind.
    /// </summary>
    internal interface IPreviewHost
    {
        EngineKind Kind { get; }

        /// <summary>The app's preview that already runs and is healthy, or null; leaves nothing else behind (stale ones are removed).</summary>
        Preview ReuseOrClear(string appId, StateDocument state, EngineSnapshot snapshot, IOperationLog log, CancellationToken ct, out bool cleared);

        /// <summary>Makes sure the preview can be launched at all (the image is there), before any port is reserved.</summary>
        void Prepare(PreviewRequest request, IOperationLog log, CancellationToken ct);

        /// <summary>Starts the preview on <paramref name="port"/>; <see cref="PortTakenException"/> when the port was lost.</summary>
        LaunchedPreview Launch(PreviewRequest request, int port, string stateId, IOperationLog log, CancellationToken ct);

        bool StillRunning(LaunchedPreview preview, CancellationToken ct);
        string Logs(LaunchedPreview preview, CancellationToken ct);

        /// <summary>Takes down what <see cref="Launch"/> started (or, for a cancelled launch, what it may have created). Never throws.</summary>
        void Discard(LaunchedPreview preview, string stateId, IOperationLog log);

        /// <summary>The preview a start that succeeded returns: the last call on <paramref name="preview"/>, so the host lets go of what it held (a process object).</summary>
        Preview Describe(LaunchedPreview preview, CancellationToken ct);

        /// <summary>Stops (or removes) the app's own previews of this state; null when it has none. Kills nothing it cannot prove is its own.</summary>
        Preview Stop(string appId, AllocationRecord record, StateDocument state, EngineSnapshot snapshot, bool remove, IOperationLog log, CancellationToken ct);

        /// <summary>AUTO_KILL_PORT: removes the given orphans; returns the ids that are gone.</summary>
        ICollection<string> Reclaim(IReadOnlyList<(int Port, ContainerSummary Container)> orphans, IOperationLog log, CancellationToken ct);
    }
}
