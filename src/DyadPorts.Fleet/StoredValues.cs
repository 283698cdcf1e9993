using System.Collections.Generic;
using DyadPorts.Core.State;
using Newtonsoft.Json;

namespace DyadPorts.Fleet
{
    /// <summary>P/apps/&lt;appId&gt;: the allocation, where its port lives (the fleet host identity), who wrote it and in which commit.</summary>
    internal sealed class StoredApp
    {
        [JsonProperty("host")] public string Host { get; set; }
        [JsonProperty("operator")] public string Operator { get; set; }
        [JsonProperty("nonce")] public string Nonce { get; set; }
        [JsonProperty("record")] public AllocationRecord Record { get; set; }
    }

    /// <summary>P/activity/&lt;appId&gt;: the reaper's sample.</summary>
    internal sealed class StoredActivity
    {
        [JsonProperty("nonce")] public string Nonce { get; set; }
        [JsonProperty("sample")] public ActivitySample Sample { get; set; }
    }

    /// <summary>
    /// P/operators/&lt;user@machine&gt;: the operator's own counters (the fleet's are their sum: one fleet-wide key would
    /// be a hot key) and the nonces of its last commits, which tell an ambiguous commit that landed from one that did not.
    /// </summary>
    internal sealed class StoredOperator
    {
        public const int RecentCommits = 32;

        [JsonProperty("counters")] public SortedDictionary<string, long> Counters { get; set; } = new SortedDictionary<string, long>(System.StringComparer.Ordinal);
        [JsonProperty("recent")] public List<string> Recent { get; set; } = new List<string>();
    }

    /// <summary>P/history/…: one event with its operator (user@machine) and its commit's nonce.</summary>
    internal sealed class StoredEvent
    {
        [JsonProperty("operator")] public string Operator { get; set; }
        [JsonProperty("nonce")] public string Nonce { get; set; }
        [JsonProperty("event")] public PortEvent Event { get; set; }
    }
}
