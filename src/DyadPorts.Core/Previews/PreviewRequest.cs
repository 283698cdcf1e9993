using System;
using System.Collections.Generic;
using DyadPorts.Core.Allocation;

namespace DyadPorts.Core.Previews
{
    /// <summary>Everything Start-DyadPreview was asked for.</summary>
    public sealed class PreviewRequest
    {
        public const string DefaultImage = "node:22-alpine";
        public const string ImageVariable = "DYAD_PREVIEW_IMAGE";
        /// <summary>dyad's own dev-server start, with the port from the environment, never pasted into the text.</summary>
        public const string DefaultCommand = "npm install && npm run dev -- --host 0.0.0.0 --port \"$PORT\"";

        public string AppId { get; set; }
        /// <summary>The app folder: mounted at /app in a container, the working directory of a process.</summary>
        public string Path { get; set; }
        public string Image { get; set; }
        /// <summary>One element: a shell command line. Several: program and arguments, run without a shell.</summary>
        public IReadOnlyList<string> Command { get; set; }
        public PortRange Range { get; set; } = PortRange.Default;
        public int MaxRetries { get; set; } = 5;
        public bool AutoKillPort { get; set; }
        public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);
        public bool NoWait { get; set; }
        public ResourceLimits Limits { get; set; } = new ResourceLimits();

        /// <summary>The claim of the reservation a launch runs under (<see cref="State.AllocationRecord.ClaimRevision"/>), set by the launcher per attempt.</summary>
        public long? ClaimRevision { get; private set; }

        /// <summary>This request for a launch under <paramref name="claim"/> (a copy: the caller's request is left as it is).</summary>
        internal PreviewRequest UnderClaim(long? claim)
        {
            var copy = (PreviewRequest)MemberwiseClone();
            copy.ClaimRevision = claim;
            return copy;
        }

        public bool IsShellCommand => Command == null || Command.Count == 1;
        public string ShellCommand => Command == null || Command.Count == 0 ? DefaultCommand : Command[0];
    }
}
