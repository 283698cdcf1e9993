using System;

namespace DyadPorts
{
    /// <summary>What kind of decision a journal line records.</summary>
    public enum PortEventKind
    {
        /// <summary>An app got a port it did not have.</summary>
        Allocated,
        /// <summary>An app kept the port it had: still free, or its own preview runs there.</summary>
        Reused,
        /// <summary>An app's port was held by something else, so it moved; HeldBy names the holder.</summary>
        Moved,
        /// <summary>An allocation was given up.</summary>
        Released,
        /// <summary>The engine refused a port at start: something took it after the check.</summary>
        RaceLost,
        /// <summary>AUTO_KILL_PORT removed an orphaned DyadPorts container.</summary>
        OrphanRemoved,
        PreviewStarted,
        /// <summary>A stopped or unhealthy preview was removed to start a new one.</summary>
        PreviewReplaced,
        PreviewStopped,
        PreviewFailed,
        /// <summary>A corrupt or missing state file was rebuilt from labelled containers.</summary>
        StateRecovered,
    }

    /// <summary>
    /// One journaled decision: when, which app, which port, where, and the fields of its kind. The history file's
    /// lines are written and read by DyadPorts.Core.State.StateJson with the names and order 0.2.0 wrote, field by field,
    /// so this public type may grow freely.
    /// </summary>
    public sealed class PortEvent
    {
        public DateTimeOffset Time { get; set; }
        public PortEventKind Kind { get; set; }
        public string AppId { get; set; }
        public int? Port { get; set; }
        public string Endpoint { get; set; }
        /// <summary>Moved: the port the app had before.</summary>
        public int? PreviousPort { get; set; }
        /// <summary>Moved, RaceLost: who held the port.</summary>
        public string HeldBy { get; set; }
        public string ContainerId { get; set; }
        public int? ProcessId { get; set; }
        /// <summary>Why, in words: an error id, "idle for 00:10:00", "-Force", ...</summary>
        public string Reason { get; set; }

        /// <summary>Who made the decision, as user@machine: on a fleet state, any operator's events are in one history.</summary>
        public string Operator { get; set; }

        public override string ToString() => $"{Time:u} {Kind} {AppId}:{Port}";
    }
}
