using System;
using System.Collections.Generic;

namespace DyadPorts
{
    /// <summary>What Copy-DyadPortState did (or, under -WhatIf, would do): counts, and which apps and state ids.</summary>
    public sealed class StateCopyResult
    {
        public string Source { get; set; }
        public string Destination { get; set; }
        /// <summary>Allocations (with their preview records) written to the destination.</summary>
        public int Copied { get; set; }
        /// <summary>Allocations the destination already had exactly so: nothing to write.</summary>
        public int Identical { get; set; }
        /// <summary>Allocations skipped because the destination has the app or the port otherwise (each one a StateCopyConflict error).</summary>
        public int Conflicts { get; set; }
        public IReadOnlyList<string> CopiedApps { get; set; } = Array.Empty<string>();
        public IReadOnlyList<string> ConflictingApps { get; set; } = Array.Empty<string>();
        /// <summary>The source's state ids the destination owns from now on (its containers stay the destination's own); empty when it owned them already.</summary>
        public IReadOnlyList<string> AdoptedStateIds { get; set; } = Array.Empty<string>();
        /// <summary>
        /// Whether the copy's one transaction landed. A plan (StateCopier.Plan) is not committed; Copy-DyadPortState writes
        /// a result only for a copy it made (under -WhatIf it writes none), so the results a user sees are committed.
        /// </summary>
        public bool Committed { get; set; }

        public override string ToString() => $"{Copied} copied, {Identical} identical, {Conflicts} conflict(s): {Source} -> {Destination}";
    }
}
