using System;
using System.Globalization;
using System.Text;
using Google.Protobuf;

namespace DyadPorts.Fleet
{
    /// <summary>
    /// The key layout under a prefix P. One key per app, one per claimed (host, port), one per app's reaper sample,
    /// one per operator, a bounded history; never the whole table under one key (every writer would contend on it).
    /// <list type="bullet">
    /// <item><c>P/meta/state-id</c>: the prefix's state id (the containers' dyadports.state label), written once.</item>
    /// <item><c>P/meta/adopted-state-ids</c>: the other states' ids the prefix took over (Copy-DyadPortState), a JSON array; absent when none.</item>
    /// <item><c>P/apps/&lt;appId&gt;</c>: the allocation (JSON), its fleet host identity, who wrote it and the writing commit's nonce.</item>
    /// <item><c>P/ports/&lt;host&gt;/&lt;port&gt;</c>: the claim, <c>&lt;appId&gt;|&lt;nonce&gt;</c>; created only if absent.</item>
    /// <item><c>P/activity/&lt;appId&gt;</c>: the idle reaper's sample.</item>
    /// <item><c>P/operators/&lt;user@machine&gt;</c>: that operator's counters and the nonces of its last commits.</item>
    /// <item><c>P/history/&lt;utc stamp&gt;-&lt;nonce&gt;-&lt;n&gt;</c>: one event; read in commit (create revision) order.</item>
    /// <item><c>P/locks/app/&lt;appId&gt;</c>: a start's or stop's lock, under a lease.</item>
    /// </list>
    /// Names are escaped (RFC 3986 data), so a '/' in a name never makes a level.
    /// </summary>
    internal sealed class EtcdKeys
    {
        public EtcdKeys(string prefix)
        {
            Prefix = prefix;
            StateId = prefix + "/meta/state-id";
            AdoptedStateIds = prefix + "/meta/adopted-state-ids";
            Apps = prefix + "/apps/";
            Ports = prefix + "/ports/";
            Activity = prefix + "/activity/";
            Operators = prefix + "/operators/";
            History = prefix + "/history/";
            AppLocks = prefix + "/locks/app/";
        }

        public string Prefix { get; }
        public string StateId { get; }
        public string AdoptedStateIds { get; }
        public string Apps { get; }
        public string Ports { get; }
        public string Activity { get; }
        public string Operators { get; }
        public string History { get; }
        public string AppLocks { get; }

        public string App(string appId) => Apps + Escape(appId);
        public string Port(string host, int port) => Ports + Escape(host) + "/" + port.ToString(CultureInfo.InvariantCulture);
        public string ActivityOf(string appId) => Activity + Escape(appId);
        public string Operator(string name) => Operators + Escape(name);
        public string AppLock(string appId) => AppLocks + Escape(appId);

        /// <summary>A history key: a fixed-width UTC stamp first, so that trimming by age is one range delete.</summary>
        public string HistoryEvent(DateTimeOffset stamp, string nonce, int index) =>
            History + HistoryStamp(stamp) + "-" + nonce + "-" + index.ToString("D4", CultureInfo.InvariantCulture);

        public static string HistoryStamp(DateTimeOffset stamp) => stamp.UtcDateTime.ToString("yyyyMMddHHmmssfffffff", CultureInfo.InvariantCulture);

        public static string Escape(string name) => Uri.EscapeDataString(name ?? string.Empty);

        public static ByteString Bytes(string key) => ByteString.CopyFromUtf8(key);

        /// <summary>The end of the range of every key that starts with <paramref name="prefix"/> (its last byte plus one).</summary>
        public static ByteString RangeEnd(string prefix)
        {
            var bytes = Encoding.UTF8.GetBytes(prefix);
            for (var i = bytes.Length - 1; i >= 0; i--)
            {
                if (bytes[i] < 0xff)
                {
                    bytes[i]++;
                    return ByteString.CopyFrom(bytes, 0, i + 1);
                }
            }
            return ByteString.CopyFrom(new byte[] { 0 });
        }
    }
}
