using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace DyadPorts.Core.State
{
    /// <summary>
    /// The one definition of how DyadPorts' own records look as JSON: the state file (<see cref="StateDocument"/> with its
    /// <see cref="AllocationRecord"/>s and <see cref="ActivitySample"/>s), the history's lines (<see cref="PortEvent"/>), and
    /// the records an etcd state stores inside its values. Written and read by hand with System.Text.Json's
    /// <see cref="Utf8JsonWriter"/> and <see cref="JsonDocument"/>, which the shared framework carries precompiled: no
    /// reflection, no serializer contracts and no dynamic methods, so a one-shot command's first read and write cost a few
    /// milliseconds where a reflection serializer cost about 80 (docs/bench/oneshot-state-json-2026-12-02.txt).
    /// </summary>
    /// <remarks>
    /// The text is exactly what 0.2.0-0.5.0 wrote with Newtonsoft.Json: the same names in the same order, two-space
    /// indentation, a field left out where those versions left it out, enums by name, times in ISO 8601 with their
    /// offset, strings escaped as Newtonsoft escaped them (<see cref="Quote"/>). One difference: the counters and samples
    /// are written in ordinal order of their names, as a new state always had them, where 0.5.0 re-sorted those it had
    /// read by the culture's rules. Reading is as tolerant as those versions were: names match without regard to case, a
    /// name given twice counts once with its last value, unknown names, comments and trailing commas are skipped, a number
    /// in a string, a fraction (rounded), a number for a boolean, an enum's name in any case or its number, and "" for
    /// null are accepted. A value of another shape throws
    /// <see cref="FormatException"/> naming the field (<see cref="Diagnostics.JsonShape"/>); the caller decides what a
    /// malformed record costs.
    /// </remarks>
    internal static class StateJson
    {
        private static readonly JsonWriterOptions Indented = new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        private static readonly JsonWriterOptions Compact = new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

        /// <summary>
        /// Files written by others, read as Newtonsoft.Json read them: comments skipped, trailing commas allowed, nesting to
        /// 64 levels.
        /// </summary>
        public static readonly JsonDocumentOptions Reading = new JsonDocumentOptions { MaxDepth = 64, CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

        // ---- writing ----

        /// <summary>The state file's text, indented.</summary>
        public static string Write(StateDocument document) => Text(Indented, w => WriteDocument(w, document));

        /// <summary>One record on one line (a copy's or a claim's comparison, an etcd value's part).</summary>
        public static string Write(AllocationRecord record) => Text(Compact, w => WriteRecord(w, record));

        /// <summary>One sample on one line (an etcd value's part).</summary>
        public static string Write(ActivitySample sample) => Text(Compact, w => WriteSample(w, sample));

        /// <summary>One history line, without its newline.</summary>
        public static string WriteLine(PortEvent e) => Text(Compact, w => WriteEvent(w, e));

        private static string Text(JsonWriterOptions options, Action<Utf8JsonWriter> write)
        {
            var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer, options))
            {
                write(writer);
            }
            return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }

        private static void WriteDocument(Utf8JsonWriter w, StateDocument d)
        {
            w.WriteStartObject();
            w.WriteNumber("version", d.Version);
            WriteString(w, "stateId", d.StateId);
            if (d.AdoptedStateIds?.Count > 0)
            {
                // Only when not empty: a file without adopted ids stays exactly as 0.3.0 wrote it.
                w.WriteStartArray("adoptedStateIds");
                foreach (var id in d.AdoptedStateIds) w.WriteStringValue(id);
                w.WriteEndArray();
            }
            if (d.ClaimSequence != 0) w.WriteNumber("claimSequence", d.ClaimSequence);
            w.WritePropertyName("allocations");
            WriteMap(w, d.Allocations, WriteRecord);
            w.WritePropertyName("counters");
            WriteMap(w, d.Counters, (writer, n) => writer.WriteNumberValue(n));
            w.WritePropertyName("activity");
            WriteMap(w, d.Activity, WriteSample);
            w.WriteEndObject();
        }

        private static void WriteMap<T>(Utf8JsonWriter w, OrdinalDictionary<T> map, Action<Utf8JsonWriter, T> value)
        {
            if (map == null) { w.WriteNullValue(); return; }
            w.WriteStartObject();
            foreach (var (key, item) in map)
            {
                w.WritePropertyName(key);
                value(w, item);
            }
            w.WriteEndObject();
        }

        /// <summary>An allocation: appId, port, engine, allocatedAt and HasPreview always; the rest only when set.</summary>
        public static void WriteRecord(Utf8JsonWriter w, AllocationRecord r)
        {
            if (r == null) { w.WriteNullValue(); return; }
            w.WriteStartObject();
            WriteString(w, "appId", r.AppId);
            w.WriteNumber("port", r.Port);
            WriteEnum(w, "engine", r.Engine);
            if (r.EngineEndpoint != null) WriteString(w, "endpoint", r.EngineEndpoint);
            w.WriteString("allocatedAt", r.AllocatedAt);
            if (r.ContainerId != null) WriteString(w, "containerId", r.ContainerId);
            if (r.ProcessId is int pid) w.WriteNumber("processId", pid);
            if (r.ProcessStartedAt is DateTimeOffset started) w.WriteString("processStartedAt", started);
            if (r.ProcessStartTicks is long ticks) w.WriteNumber("processStartTicks", ticks);
            if (r.Image != null) WriteString(w, "image", r.Image);
            if (r.Host != null) WriteString(w, "host", r.Host);
            if (r.Provisional) w.WriteBoolean("provisional", true);
            if (r.ClaimRevision is long claim) w.WriteNumber("claim", claim);
            // Derived, and never read back: every version since 0.2.0 wrote it (a reflection serializer took every public
            // property), so it stays, and a record reads and writes back byte for byte.
            w.WriteBoolean("HasPreview", r.HasPreview);
            w.WriteEndObject();
        }

        /// <summary>A reaper's sample: at, preview and value always; signal and attached only when known.</summary>
        public static void WriteSample(Utf8JsonWriter w, ActivitySample s)
        {
            if (s == null) { w.WriteNullValue(); return; }
            w.WriteStartObject();
            w.WriteString("at", s.At);
            WriteString(w, "preview", s.Preview);
            WriteString(w, "value", s.Value);
            if (s.Signal != null) WriteString(w, "signal", s.Signal);
            if (s.Attached is int attached) w.WriteNumber("attached", attached);
            w.WriteEndObject();
        }

        /// <summary>A history line: time and kind always; every other field only when set (0.2.0's lines, byte for byte).</summary>
        private static void WriteEvent(Utf8JsonWriter w, PortEvent e)
        {
            w.WriteStartObject();
            w.WriteString("time", e.Time);
            WriteEnum(w, "kind", e.Kind);
            if (e.AppId != null) WriteString(w, "appId", e.AppId);
            if (e.Port is int port) w.WriteNumber("port", port);
            if (e.Endpoint != null) WriteString(w, "endpoint", e.Endpoint);
            if (e.PreviousPort is int previous) w.WriteNumber("previousPort", previous);
            if (e.HeldBy != null) WriteString(w, "heldBy", e.HeldBy);
            if (e.ContainerId != null) WriteString(w, "containerId", e.ContainerId);
            if (e.ProcessId is int pid) w.WriteNumber("processId", pid);
            if (e.Reason != null) WriteString(w, "reason", e.Reason);
            if (e.Operator != null) WriteString(w, "operator", e.Operator);
            w.WriteEndObject();
        }

        /// <summary>
        /// A string as Newtonsoft.Json escaped it: only the characters below U+0020 (as \b, \t, \n, \f, \r or \u00xx in
        /// lower case), the quote, the backslash, U+0085, U+2028 and U+2029; everything else as it is, in UTF-8 (a lone
        /// surrogate as U+FFFD).
        /// System.Text.Json's own encoders escape more (U+007F, U+00A0, private use, characters beyond the BMP).
        /// </summary>
        private static void WriteString(Utf8JsonWriter w, string name, string value)
        {
            w.WritePropertyName(name);
            if (value == null) w.WriteNullValue();
            else w.WriteRawValue(Quote(value), skipInputValidation: true);
        }

        internal static string Quote(string value)
        {
            StringBuilder quoted = null;
            var start = 0;
            for (var i = 0; i < value.Length; i++)
            {
                var c = value[i];
                if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                {
                    i++; // a pair: one character beyond the BMP, written as it is
                    continue;
                }
                string escaped = c switch
                {
                    '"' => "\\\"",
                    '\\' => "\\\\",
                    '\b' => "\\b",
                    '\t' => "\\t",
                    '\n' => "\\n",
                    '\f' => "\\f",
                    '\r' => "\\r",
                    < ' ' or '\u0085' or '\u2028' or '\u2029' => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
                    // A lone surrogate is no character: U+FFFD, the bytes 0.5.0's UTF-8 encoding of the same text wrote.
                    _ when char.IsSurrogate(c) => "\uFFFD",
                    _ => null,
                };
                if (escaped == null) continue;
                quoted ??= new StringBuilder(value.Length + 8).Append('"');
                quoted.Append(value, start, i - start).Append(escaped);
                start = i + 1;
            }
            return quoted == null ? "\"" + value + "\"" : quoted.Append(value, start, value.Length - start).Append('"').ToString();
        }

        /// <summary>An enum by its name; a value without one by its number, as Newtonsoft's StringEnumConverter wrote it.</summary>
        private static void WriteEnum<T>(Utf8JsonWriter w, string name, T value) where T : struct, System.Enum
        {
            if (System.Enum.IsDefined(value)) w.WriteString(name, value.ToString());
            else w.WriteNumber(name, Convert.ToInt64(value, CultureInfo.InvariantCulture));
        }

        // ---- reading ----

        /// <summary>An allocation from its object; <see cref="FormatException"/> when a field has another shape.</summary>
        public static AllocationRecord ReadRecord(JsonElement e)
        {
            var r = new AllocationRecord();
            foreach (var p in Object(e, "allocation"))
            {
                var v = p.Value;
                switch (Key(p.Name))
                {
                    case "appid": r.AppId = String(v, p.Name); break;
                    case "port": r.Port = Int32(v, p.Name) ?? throw Null(p.Name); break;
                    case "engine": r.Engine = Enum<EngineKind>(v, p.Name) ?? throw Null(p.Name); break;
                    case "endpoint": r.EngineEndpoint = String(v, p.Name); break;
                    case "allocatedat": r.AllocatedAt = Time(v, p.Name) ?? throw Null(p.Name); break;
                    case "containerid": r.ContainerId = String(v, p.Name); break;
                    case "processid": r.ProcessId = Int32(v, p.Name); break;
                    case "processstartedat": r.ProcessStartedAt = Time(v, p.Name); break;
                    case "processstartticks": r.ProcessStartTicks = Int64(v, p.Name); break;
                    case "image": r.Image = String(v, p.Name); break;
                    case "host": r.Host = String(v, p.Name); break;
                    case "provisional": r.Provisional = Boolean(v, p.Name) ?? throw Null(p.Name); break;
                    case "claim": r.ClaimRevision = Int64(v, p.Name); break;
                }
            }
            return r;
        }

        /// <summary>A reaper's sample from its object; <see cref="FormatException"/> when a field has another shape.</summary>
        public static ActivitySample ReadSample(JsonElement e)
        {
            var s = new ActivitySample();
            foreach (var p in Object(e, "activity sample"))
            {
                var v = p.Value;
                switch (Key(p.Name))
                {
                    case "at": s.At = Time(v, p.Name) ?? throw Null(p.Name); break;
                    case "preview": s.Preview = String(v, p.Name); break;
                    case "value": s.Value = String(v, p.Name); break;
                    case "signal": s.Signal = String(v, p.Name); break;
                    case "attached": s.Attached = Int32(v, p.Name); break;
                }
            }
            return s;
        }

        /// <summary>
        /// A history line, or null for a line that is JSON null; <see cref="JsonException"/> for a line that is not JSON
        /// (a torn last line), <see cref="FormatException"/> for one of another shape.
        /// </summary>
        public static PortEvent ReadLine(string line)
        {
            using (var document = JsonDocument.Parse(line, Reading))
            {
                var root = document.RootElement;
                if (root.ValueKind == JsonValueKind.Null) return null;
                var e = new PortEvent();
                foreach (var p in Object(root, "history line"))
                {
                    var v = p.Value;
                    switch (Key(p.Name))
                    {
                        case "time": e.Time = Time(v, p.Name) ?? throw Null(p.Name); break;
                        case "kind": e.Kind = Enum<PortEventKind>(v, p.Name) ?? throw Null(p.Name); break;
                        case "appid": e.AppId = String(v, p.Name); break;
                        case "port": e.Port = Int32(v, p.Name); break;
                        case "endpoint": e.Endpoint = String(v, p.Name); break;
                        case "previousport": e.PreviousPort = Int32(v, p.Name); break;
                        case "heldby": e.HeldBy = String(v, p.Name); break;
                        case "containerid": e.ContainerId = String(v, p.Name); break;
                        case "processid": e.ProcessId = Int32(v, p.Name); break;
                        case "reason": e.Reason = String(v, p.Name); break;
                        case "operator": e.Operator = String(v, p.Name); break;
                    }
                }
                return e;
            }
        }

        /// <summary>A map of numbers by name (the state's counters).</summary>
        public static OrdinalDictionary<long> ReadCounters(JsonElement e)
        {
            var counters = new OrdinalDictionary<long>();
            foreach (var p in Object(e, "counters")) counters[p.Name] = Int64(p.Value, p.Name) ?? throw Null(p.Name);
            return counters;
        }

        /// <summary>A map of samples by app (the state's activity).</summary>
        public static OrdinalDictionary<ActivitySample> ReadActivity(JsonElement e)
        {
            var activity = new OrdinalDictionary<ActivitySample>();
            foreach (var p in Object(e, "activity")) activity[p.Name] = p.Value.ValueKind == JsonValueKind.Null ? null : ReadSample(p.Value);
            return activity;
        }

        /// <summary>The value as one line of JSON, cut to <paramref name="max"/> characters: how a malformed record is named.</summary>
        public static string Describe(JsonElement value, int max = 120)
        {
            var compact = Text(Compact, value.WriteTo);
            return compact.Length > max ? string.Concat(compact.AsSpan(0, max - 3), "...") : compact;
        }

        /// <summary>A property name as the switches above spell it: names match without regard to case, as they always did.</summary>
        private static string Key(string name) => name.ToLowerInvariant();

        private static JsonProperty[] Object(JsonElement e, string what) =>
            e.ValueKind == JsonValueKind.Object ? Members(e) : throw new FormatException($"the {what} is a JSON {Kind(e)}, not an object");

        /// <summary>
        /// An object's members in their order, a name given twice only once with its last value, as Newtonsoft.Json's
        /// JObject kept it (so a malformed first value that a later one replaced costs nothing). Names are compared exactly.
        /// An array, walked by index: a list or an enumerator of <see cref="JsonProperty"/> is framework code over
        /// System.Text.Json's struct, which a one-shot process would compile at run time (issue 18).
        /// </summary>
        public static JsonProperty[] Members(JsonElement e)
        {
            var all = new JsonProperty[e.GetPropertyCount()];
            var n = 0;
            HashSet<string> names = null;
            var repeated = false;
            foreach (var p in e.EnumerateObject())
            {
                all[n++] = p;
                names ??= new HashSet<string>(StringComparer.Ordinal);
                repeated |= !names.Add(p.Name);
            }
            if (!repeated) return all;
            var last = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < all.Length; i++) last[all[i].Name] = i;
            var kept = new JsonProperty[last.Count];
            n = 0;
            for (var i = 0; i < all.Length; i++)
            {
                if (last[all[i].Name] == i) kept[n++] = all[i];
            }
            return kept;
        }

        /// <summary>The value of the member named exactly <paramref name="name"/> in <paramref name="members"/>, or an undefined value.</summary>
        public static JsonElement Member(JsonProperty[] members, string name)
        {
            ArgumentNullException.ThrowIfNull(members);
            for (var i = 0; i < members.Length; i++)
            {
                if (members[i].NameEquals(name)) return members[i].Value;
            }
            return default;
        }

        private static FormatException Null(string name) => new FormatException($"'{name}' is null");

        private static FormatException Shape(string name, JsonElement v, string expected) =>
            new FormatException($"'{name}' is a JSON {Kind(v)}, not {expected}");

        /// <summary>A value's kind as a message names it ("object", "string", ...).</summary>
        internal static string Kind(JsonElement v) => v.ValueKind.ToString().ToLowerInvariant();

        /// <summary>A string value (null for JSON null); a number or boolean is its text; anything else a mismatch naming <paramref name="name"/>.</summary>
        internal static string String(JsonElement v, string name) => v.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => v.GetRawText(),
            _ => throw Shape(name, v, "a string"),
        };

        private static int? Int32(JsonElement v, string name) =>
            Int64(v, name) is long n ? (n >= int.MinValue && n <= int.MaxValue ? (int)n : throw new FormatException($"'{name}' is {n}, out of range")) : null;

        private static long? Int64(JsonElement v, string name)
        {
            switch (v.ValueKind)
            {
                case JsonValueKind.Null: return null;
                case JsonValueKind.Number:
                    if (v.TryGetInt64(out var n)) return n;
                    // A fraction rounds to the nearest whole number (half to even), as Newtonsoft.Json converted it.
                    if (v.TryGetDouble(out var d) && d >= long.MinValue && d <= long.MaxValue) return Convert.ToInt64(d, CultureInfo.InvariantCulture);
                    throw new FormatException($"'{name}' is {v.GetRawText()}, not a whole number in range");
                case JsonValueKind.String:
                    var text = v.GetString();
                    if (text.Length == 0) return null; // "" is null, as it always was
                    if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)) return parsed;
                    throw new FormatException($"'{name}' is \"{text}\", not a whole number");
                default: throw Shape(name, v, "a number");
            }
        }

        private static bool? Boolean(JsonElement v, string name) => v.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number => v.GetDouble() != 0, // as Newtonsoft.Json converted a number
            JsonValueKind.String when v.GetString().Length == 0 => null,
            JsonValueKind.String when bool.TryParse(v.GetString(), out var b) => b,
            _ => throw Shape(name, v, "true or false"),
        };

        private static DateTimeOffset? Time(JsonElement v, string name)
        {
            switch (v.ValueKind)
            {
                case JsonValueKind.Null: return null;
                case JsonValueKind.String:
                    if (v.TryGetDateTimeOffset(out var t)) return t;
                    if (v.GetString().Length == 0) return null;
                    if (DateTimeOffset.TryParse(v.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out t)) return t;
                    throw new FormatException($"'{name}' is \"{v.GetString()}\", not a time");
                default: throw Shape(name, v, "a time");
            }
        }

        /// <summary>
        /// An enum as Newtonsoft's StringEnumConverter read it: a name in any case, or a whole number (in a string too),
        /// named or not.
        /// </summary>
        private static T? Enum<T>(JsonElement v, string name) where T : struct, System.Enum
        {
            switch (v.ValueKind)
            {
                case JsonValueKind.Null: return null;
                case JsonValueKind.String:
                    var text = v.GetString().Trim();
                    if (text.Length == 0) return null;
                    if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number)) return (T)System.Enum.ToObject(typeof(T), number);
                    if (System.Enum.TryParse<T>(text, ignoreCase: true, out var named) && System.Enum.IsDefined(named)) return named;
                    throw new FormatException($"'{name}' is \"{text}\", not one of {string.Join(", ", System.Enum.GetNames<T>())}");
                case JsonValueKind.Number:
                    if (v.TryGetInt32(out var n)) return (T)System.Enum.ToObject(typeof(T), n);
                    throw new FormatException($"'{name}' is {v.GetRawText()}, not one of {string.Join(", ", System.Enum.GetNames<T>())}");
                default: throw Shape(name, v, "a name");
            }
        }
    }
}
