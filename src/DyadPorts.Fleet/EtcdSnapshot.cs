using System;
using System.Collections.Generic;
using System.Linq;
using DyadPorts.Core.State;
using Etcdserverpb;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace DyadPorts.Fleet
{
    /// <summary>
    /// The table as stored at one revision: read in one round trip (a transaction of ranges), kept with every key's
    /// mod revision so that a commit can compare against exactly what it saw.
    /// </summary>
    internal sealed class EtcdSnapshot
    {
        public long Revision { get; private set; }
        public ulong ClusterId { get; private set; }
        public string StateId { get; private set; }
        /// <summary>The ids the prefix adopted, with the key's mod revision; null when the key is absent.</summary>
        public Seen<List<string>> AdoptedStateIds { get; private set; }
        public Dictionary<string, Seen<StoredApp>> Apps { get; } = new Dictionary<string, Seen<StoredApp>>(StringComparer.Ordinal);
        /// <summary>Claims by key: the app that holds the port.</summary>
        public Dictionary<string, Seen<string>> Ports { get; } = new Dictionary<string, Seen<string>>(StringComparer.Ordinal);
        public Dictionary<string, Seen<StoredActivity>> Activity { get; } = new Dictionary<string, Seen<StoredActivity>>(StringComparer.Ordinal);
        /// <summary>
        /// App and sample keys whose value is not a DyadPorts record (not JSON, or JSON of another shape: written by hand,
        /// or by another tool): never read as one, and never overwritten (<see cref="EtcdCommit"/>).
        /// </summary>
        public HashSet<string> Foreign { get; } = new HashSet<string>(StringComparer.Ordinal);
        /// <summary>Every operator's counters and recent commits, by key.</summary>
        public Dictionary<string, Seen<StoredOperator>> Operators { get; } = new Dictionary<string, Seen<StoredOperator>>(StringComparer.Ordinal);

        /// <summary>The request: one range per part, answered at one revision.</summary>
        public static TxnRequest Request(EtcdKeys keys)
        {
            var request = new TxnRequest();
            request.Success.Add(new RequestOp { RequestRange = new RangeRequest { Key = EtcdKeys.Bytes(keys.StateId) } });
            foreach (var prefix in new[] { keys.Apps, keys.Ports, keys.Activity, keys.Operators })
            {
                request.Success.Add(new RequestOp { RequestRange = new RangeRequest { Key = EtcdKeys.Bytes(prefix), RangeEnd = EtcdKeys.RangeEnd(prefix) } });
            }
            request.Success.Add(new RequestOp { RequestRange = new RangeRequest { Key = EtcdKeys.Bytes(keys.AdoptedStateIds) } });
            return request;
        }

        public static EtcdSnapshot From(TxnResponse response, EtcdKeys keys)
        {
            var snapshot = new EtcdSnapshot { Revision = response.Header.Revision, ClusterId = response.Header.ClusterId };
            var ranges = response.Responses.Select(r => r.ResponseRange).ToList();
            var stateId = ranges[0].Kvs.FirstOrDefault();
            if (stateId != null && !stateId.Value.IsEmpty) snapshot.StateId = stateId.Value.ToStringUtf8();
            foreach (var kv in ranges[1].Kvs)
            {
                var key = kv.Key.ToStringUtf8();
                var app = Parsed<StoredApp>(kv, "record");
                if (app?.Record?.AppId == null)
                {
                    snapshot.Foreign.Add(key); // not ours to read: left alone
                    continue;
                }
                snapshot.Apps[app.Record.AppId] = new Seen<StoredApp>(app, kv.ModRevision, kv.Lease) { Key = key };
            }
            foreach (var kv in ranges[2].Kvs)
            {
                var value = kv.Value.ToStringUtf8();
                var bar = value.LastIndexOf('|');
                snapshot.Ports[kv.Key.ToStringUtf8()] = new Seen<string>(bar < 0 ? value : value.Substring(0, bar), kv.ModRevision, kv.Lease, kv.CreateRevision);
            }
            foreach (var kv in ranges[3].Kvs)
            {
                var key = kv.Key.ToStringUtf8();
                var activity = Parsed<StoredActivity>(kv, "sample");
                if (activity?.Sample == null)
                {
                    snapshot.Foreign.Add(key);
                    continue;
                }
                snapshot.Activity[Uri.UnescapeDataString(key.AsSpan(keys.Activity.Length))] = new Seen<StoredActivity>(activity, kv.ModRevision) { Key = key };
            }
            foreach (var kv in ranges[4].Kvs)
            {
                var op = JsonConvert.DeserializeObject<StoredOperator>(kv.Value.ToStringUtf8(), EtcdJson.Settings) ?? new StoredOperator();
                // Written with its lists as null (by hand, or by a tool of its own): an operator with no counters and no
                // recent commits, which is all that value says, rather than a failure of every command on the prefix.
                op.Counters ??= new SortedDictionary<string, long>(StringComparer.Ordinal);
                op.Recent ??= new List<string>();
                snapshot.Operators[kv.Key.ToStringUtf8()] = new Seen<StoredOperator>(op, kv.ModRevision);
            }
            var adopted = ranges[5].Kvs.FirstOrDefault();
            if (adopted != null)
            {
                var ids = JsonConvert.DeserializeObject<List<string>>(adopted.Value.ToStringUtf8(), EtcdJson.Settings) ?? new List<string>();
                snapshot.AdoptedStateIds = new Seen<List<string>>(ids, adopted.ModRevision);
            }
            return snapshot;
        }

        /// <summary>
        /// The value as <typeparamref name="T"/>, read in one pass as every other value is; null when it does not read and
        /// is not DyadPorts' at all: not JSON, not a JSON object, or an object without <paramref name="member"/> (another
        /// tool's; one that reads without it comes back with that member null). An object with it that does not read (a
        /// record of a newer DyadPorts, say) is not another tool's: its JsonException ends the read as StateFileCorrupt.
        /// </summary>
        private static T Parsed<T>(Mvccpb.KeyValue kv, string member) where T : class
        {
            var text = kv.Value.ToStringUtf8();
            try
            {
                return JsonConvert.DeserializeObject<T>(text, EtcdJson.Settings);
            }
            catch (JsonException) when (!IsObjectWith(text, member))
            {
                return null;
            }
        }

        /// <summary>Whether <paramref name="text"/> is one JSON object with a non-null <paramref name="member"/>.</summary>
        private static bool IsObjectWith(string text, string member)
        {
            try
            {
                return JToken.Parse(text) is JObject value && value[member] is JToken found && found.Type != JTokenType.Null;
            }
            catch (JsonReaderException)
            {
                return false;
            }
        }

        /// <summary>A fresh document of what was read (its own objects: changing it changes nothing stored).</summary>
        public StateDocument ToDocument(string stateId) => ToDocument(stateId, null);

        /// <summary>As <see cref="ToDocument(string)"/>, with each record's claim: the create revision of its claim key when the app holds it.</summary>
        public StateDocument ToDocument(string stateId, EtcdKeys keys)
        {
            var document = new StateDocument { StateId = StateId ?? stateId };
            foreach (var id in AdoptedStateIds?.Value ?? new List<string>()) if (!string.IsNullOrEmpty(id)) document.AdoptedStateIds.Add(id);
            foreach (var app in Apps.Values)
            {
                var record = EtcdJson.Copy(app.Value.Record);
                // A record stored without its host (made where none was stamped) is the host its claim is under: read as
                // "here" on every machine, another machine's local preview would look like this one's.
                if (string.IsNullOrEmpty(record.Host)) record.Host = app.Value.Host;
                record.ClaimRevision = keys != null && app.Value.Host != null && Ports.TryGetValue(keys.Port(app.Value.Host, record.Port), out var claim) && claim.Value == record.AppId
                    ? claim.CreateRevision
                    : null;
                document.Allocations[record.AppId] = record;
            }
            foreach (var pair in Activity) document.Activity[pair.Key] = EtcdJson.Copy(pair.Value.Value.Sample);
            foreach (var counter in Operators.Values.SelectMany(o => o.Value.Counters))
            {
                document.Counters[counter.Key] = (document.Counters.TryGetValue(counter.Key, out var n) ? n : 0) + counter.Value;
            }
            return document;
        }
    }

    /// <summary>A value as read, with the mod revision a commit compares against and the lease it lives under (0: none).</summary>
    internal sealed class Seen<T>
    {
        public Seen(T value, long modRevision, long lease = 0, long createRevision = 0)
        {
            Value = value;
            ModRevision = modRevision;
            Lease = lease;
            CreateRevision = createRevision;
        }

        /// <summary>The revision at which the key was created (a claim's identity).</summary>
        public long CreateRevision { get; }

        /// <summary>
        /// The key it was read from (apps and samples). A commit changes or deletes a value there, never at the key its id
        /// would have now: a record written by hand under an unescaped key (P/apps/my app) is its own key's.
        /// </summary>
        public string Key { get; init; }

        public T Value { get; }
        public long ModRevision { get; }
        public long Lease { get; }
    }

    internal static class EtcdJson
    {
        public static readonly JsonSerializerSettings Settings = new JsonSerializerSettings
        {
            Formatting = Formatting.None,
            DateParseHandling = DateParseHandling.DateTimeOffset,
            Converters = { new Newtonsoft.Json.Converters.StringEnumConverter(), new StoredRecordConverter() },
            MissingMemberHandling = MissingMemberHandling.Ignore,
        };

        public static string Write(object value) => JsonConvert.SerializeObject(value, Settings);

        public static T Copy<T>(T value) => JsonConvert.DeserializeObject<T>(Write(value), Settings);
    }
}
