using System;
using System.Collections.Generic;
using Newtonsoft.Json;

namespace DyadPorts.Core.State
{
    /// <summary>One app's allocation as stored on disk.</summary>
    public sealed class AllocationRecord
    {
        [JsonProperty("appId")] public string AppId { get; set; }
        [JsonProperty("port")] public int Port { get; set; }
        [JsonProperty("engine")] public EngineKind Engine { get; set; }
        [JsonProperty("endpoint", NullValueHandling = NullValueHandling.Ignore)] public string EngineEndpoint { get; set; }
        [JsonProperty("allocatedAt")] public DateTimeOffset AllocatedAt { get; set; }
        /// <summary>Set once a preview was started for the app: its absence later makes the allocation Stale.</summary>
        [JsonProperty("containerId", NullValueHandling = NullValueHandling.Ignore)] public string ContainerId { get; set; }
        [JsonProperty("processId", NullValueHandling = NullValueHandling.Ignore)] public int? ProcessId { get; set; }
        /// <summary>With ProcessId, tells a live preview from a reused pid. Without it a pid is never provably ours.</summary>
        [JsonProperty("processStartedAt", NullValueHandling = NullValueHandling.Ignore)] public DateTimeOffset? ProcessStartedAt { get; set; }
        [JsonProperty("image", NullValueHandling = NullValueHandling.Ignore)] public string Image { get; set; }

        public bool HasPreview => ContainerId != null || ProcessId.HasValue;
    }

    /// <summary>The state file: its identity and every app's allocation, keyed by AppId.</summary>
    public sealed class StateDocument
    {
        /// <summary>2 added <see cref="StateId"/>; version 1 files migrate forward on their next write.</summary>
        public const int CurrentVersion = 2;

        [JsonProperty("version")] public int Version { get; set; } = CurrentVersion;

        /// <summary>
        /// Which state this is. Every container DyadPorts creates carries it as the label dyadports.state, and
        /// AUTO_KILL_PORT and recovery act only on containers of their own state.
        /// </summary>
        [JsonProperty("stateId")] public string StateId { get; set; }

        [JsonProperty("allocations")]
        public SortedDictionary<string, AllocationRecord> Allocations { get; set; } = new SortedDictionary<string, AllocationRecord>(StringComparer.Ordinal);
    }
}
