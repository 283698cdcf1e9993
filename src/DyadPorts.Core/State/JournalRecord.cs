using System;
using Newtonsoft.Json;
using Newtonsoft.Json.Converters;

namespace DyadPorts.Core.State
{
    /// <summary>
    /// One line of the history file as it is on disk. Separate from the public <see cref="PortEvent"/>, so that the
    /// public type may change without changing the file: the names, order and null handling here are exactly those
    /// 0.2.0 wrote (tests/DyadPorts.Tests/Fixtures/0.2.0), and a 0.2.0 reader reads what this one writes.
    /// </summary>
    internal sealed class JournalRecord
    {
        [JsonProperty("time")] public DateTimeOffset Time { get; set; }
        [JsonProperty("kind"), JsonConverter(typeof(StringEnumConverter))] public PortEventKind Kind { get; set; }
        [JsonProperty("appId", NullValueHandling = NullValueHandling.Ignore)] public string AppId { get; set; }
        [JsonProperty("port", NullValueHandling = NullValueHandling.Ignore)] public int? Port { get; set; }
        [JsonProperty("endpoint", NullValueHandling = NullValueHandling.Ignore)] public string Endpoint { get; set; }
        [JsonProperty("previousPort", NullValueHandling = NullValueHandling.Ignore)] public int? PreviousPort { get; set; }
        [JsonProperty("heldBy", NullValueHandling = NullValueHandling.Ignore)] public string HeldBy { get; set; }
        [JsonProperty("containerId", NullValueHandling = NullValueHandling.Ignore)] public string ContainerId { get; set; }
        [JsonProperty("processId", NullValueHandling = NullValueHandling.Ignore)] public int? ProcessId { get; set; }
        [JsonProperty("reason", NullValueHandling = NullValueHandling.Ignore)] public string Reason { get; set; }
        /// <summary>Absent in 0.2.0 lines, which stay byte for byte as they were.</summary>
        [JsonProperty("operator", NullValueHandling = NullValueHandling.Ignore)] public string Operator { get; set; }

        public static JournalRecord From(PortEvent e) => new JournalRecord
        {
            Time = e.Time, Kind = e.Kind, AppId = e.AppId, Port = e.Port, Endpoint = e.Endpoint, PreviousPort = e.PreviousPort,
            HeldBy = e.HeldBy, ContainerId = e.ContainerId, ProcessId = e.ProcessId, Reason = e.Reason, Operator = e.Operator,
        };

        public PortEvent ToEvent() => new PortEvent
        {
            Time = Time, Kind = Kind, AppId = AppId, Port = Port, Endpoint = Endpoint, PreviousPort = PreviousPort,
            HeldBy = HeldBy, ContainerId = ContainerId, ProcessId = ProcessId, Reason = Reason, Operator = Operator,
        };
    }
}
