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
        /// <summary>With ProcessId, tells a live preview from a reused pid.</summary>
        [JsonProperty("processStartedAt", NullValueHandling = NullValueHandling.Ignore)] public DateTimeOffset? ProcessStartedAt { get; set; }
        [JsonProperty("image", NullValueHandling = NullValueHandling.Ignore)] public string Image { get; set; }

        public bool HasPreview => ContainerId != null || ProcessId.HasValue;
    }

    /// <summary>The state file: every app's allocation, keyed by AppId.</summary>
    public sealed class StateDocument
    {
        public const int CurrentVersion = 1;

        [JsonProperty("version")] public int Version { get; set; } = CurrentVersion;

        [JsonProperty("allocations")]
        public SortedDictionary<string, AllocationRecord> Allocations { get; set; } = new SortedDictionary<string, AllocationRecord>(StringComparer.Ordinal);
    }
}
