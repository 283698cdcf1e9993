using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.State;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.State
{
    /// <summary>
    /// The state's own JSON (StateJson): what 0.5.0's reflection serializer wrote reads and writes back byte for byte, reading
    /// is as tolerant as that serializer was, and a field of another shape is a mismatch that names the field.
    /// </summary>
    public class StateJsonTests
    {
        private static string Golden(string name) => File.ReadAllText(Fixtures.PathOf("0.5.0", name));

        private static AllocationRecord Record(string json)
        {
            using var document = JsonDocument.Parse(json, StateJson.Reading);
            return StateJson.ReadRecord(document.RootElement);
        }

        [Fact]
        public void A_state_file_written_by_0_5_0_reads_every_field_and_writes_back_byte_for_byte()
        {
            var text = Golden("state.json");
            var document = StateStore.Parse(text, out var problem, out var dropped);
            Assert.Null(problem);
            Assert.Empty(dropped);
            Assert.Equal(("0123456789abcdef", 7L), (document.StateId, document.ClaimSequence));
            Assert.Equal(new[] { "fedcba9876543210" }, document.AdoptedStateIds);
            var full = document.Allocations["app-full"];
            Assert.Equal((32101, EngineKind.Podman, "unix:///run/podman/podman.sock", 4242, 123456789012L, "node:22-alpine", "machine:0123abcd", true, 7L),
                (full.Port, full.Engine, full.EngineEndpoint, full.ProcessId.Value, full.ProcessStartTicks.Value, full.Image, full.Host, full.Provisional, full.ClaimRevision.Value));
            Assert.Equal(new DateTimeOffset(2026, 12, 2, 7, 25, 14, TimeSpan.Zero).AddTicks(1234567), full.AllocatedAt);
            Assert.Equal(TimeSpan.FromHours(2), full.ProcessStartedAt.Value.Offset);
            var bare = document.Allocations["app-bare"];
            Assert.Equal((EngineKind.Docker, (string)null, (int?)null, (long?)null, false), (bare.Engine, bare.EngineEndpoint, bare.ProcessId, bare.ClaimRevision, bare.Provisional));
            Assert.Equal(12, document.Counters["Allocated"]);
            Assert.Equal(("accepted", (int?)2), (document.Activity["app-full"].Signal, document.Activity["app-full"].Attached));
            Assert.Equal("a \"quoted\" <value> & é", document.Activity["app-bare"].Value);
            Assert.Null(document.Activity["app-bare"].Signal);

            Assert.Equal(text, StateJson.Write(document));
        }

        [Fact]
        public void History_lines_written_by_0_5_0_read_and_write_back_byte_for_byte()
        {
            var lines = Golden("state.json.history.jsonl").Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(2, lines.Length);
            var moved = StateJson.ReadLine(lines[0]);
            Assert.Equal((PortEventKind.Moved, "app-full", 32101, 32100, "container /other (9f86d081)", 99, "-Force; tab\there", "root@host"),
                (moved.Kind, moved.AppId, moved.Port.Value, moved.PreviousPort.Value, moved.HeldBy, moved.ProcessId.Value, moved.Reason, moved.Operator));
            var recovered = StateJson.ReadLine(lines[1]);
            Assert.Equal((PortEventKind.StateRecovered, (string)null, (int?)null), (recovered.Kind, recovered.AppId, recovered.Port));
            Assert.Equal(TimeSpan.FromHours(-5), recovered.Time.Offset);
            Assert.Equal(lines, lines.Select(l => StateJson.WriteLine(StateJson.ReadLine(l))).ToArray());
        }

        [Theory]
        [InlineData("{\"AppId\":\"a\",\"PORT\":21000,\"Engine\":\"docker\",\"AllocatedAt\":\"2026-12-02T07:25:14+00:00\"}")] // any case, as before
        [InlineData("{\"appId\":\"a\",\"port\":\"21000\",\"engine\":\"Docker\",\"allocatedAt\":\"2026-12-02T07:25:14+00:00\"}")] // a number in a string
        [InlineData("{\"appId\":\"a\",\"port\":21000.0,\"engine\":1,\"allocatedAt\":\"2026-12-02T07:25:14+00:00\",\"later\":{\"x\":[1]}}")] // 21000.0, an enum's number, an unknown field
        [InlineData("{\"appId\":\"a\",\"port\":21000.4,\"engine\":\"1\",\"allocatedAt\":\"2026-12-02T07:25:14+00:00\",\"processId\":\"\",\"claim\":\"\",\"processStartedAt\":\"\"}")] // a fraction rounds, a number in a string for an enum, "" is null
        [InlineData("{\"appId\":\"a\",\"port\":\"x\",\"port\":21000,\"engine\":\"Docker\",\"allocatedAt\":\"2026-12-02T07:25:14+00:00\",\"provisional\":0}")] // a name given twice: the last value; a number for a boolean
        [InlineData("{/* by hand */\"appId\":\"a\",\"port\":21000,\"engine\":\"Docker\",\"allocatedAt\":\"2026-12-02T07:25:14+00:00\",}")] // a comment, a trailing comma
        public void Reading_is_as_tolerant_as_the_reflection_serializer_was(string json)
        {
            var record = Record(json);
            Assert.Equal(("a", 21000, EngineKind.Docker, (int?)null, (long?)null, false), (record.AppId, record.Port, record.Engine, record.ProcessId, record.ClaimRevision, record.Provisional));
            Assert.Equal(new DateTimeOffset(2026, 12, 2, 7, 25, 14, TimeSpan.Zero), record.AllocatedAt);
        }

        [Theory]
        [InlineData("{\"appId\":\"a\",\"port\":\"abc\"}", "'port'")]
        [InlineData("{\"appId\":\"a\",\"port\":null}", "'port' is null")]
        [InlineData("{\"appId\":\"a\",\"port\":4294967296}", "'port' is 4294967296, out of range")]
        [InlineData("{\"appId\":{\"x\":1}}", "'appId' is a JSON object, not a string")]
        [InlineData("{\"engine\":\"Kubernetes\"}", "'engine' is \"Kubernetes\", not one of")]
        [InlineData("{\"engine\":1.5}", "'engine' is 1.5")]
        [InlineData("{\"port\":1e30}", "'port' is 1e30, not a whole number in range")]
        [InlineData("{\"allocatedAt\":\"yesterday\"}", "'allocatedAt' is \"yesterday\", not a time")]
        [InlineData("{\"allocatedAt\":12}", "'allocatedAt' is a JSON number, not a time")]
        [InlineData("{\"provisional\":\"maybe\"}", "'provisional' is a JSON string, not true or false")]
        [InlineData("[1]", "the allocation is a JSON array, not an object")]
        public void A_field_of_another_shape_is_a_mismatch_that_names_it(string json, string expected)
        {
            var e = Assert.Throws<FormatException>(() => Record(json));
            Assert.True(JsonShape.IsMismatch(e));
            Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void A_malformed_record_is_dropped_and_named_in_one_line_and_the_others_kept()
        {
            var text = "{\n  \"version\": 2,\n  \"stateId\": \"s\",\n  \"allocations\": {\n    \"bad\": {\n      \"appId\": \"bad\",\n      \"port\": \"x\"\n    },\n" +
                       "    \"good\": { \"appId\": \"good\", \"port\": 21000, \"engine\": \"Docker\", \"allocatedAt\": \"2026-12-02T07:25:14+00:00\" }\n  },\n  \"counters\": { \"Moved\": \"many\" }\n}";
            var document = StateStore.Parse(text, out var problem, out var dropped);
            Assert.Null(problem);
            Assert.Equal(new[] { "good" }, document.Allocations.Keys);
            Assert.Contains("the allocation 'bad' is malformed ({\"appId\":\"bad\",\"port\":\"x\"})", dropped);
            Assert.Contains(dropped, d => d.StartsWith("the counters are malformed ('Moved' is \"many\"", StringComparison.Ordinal));
        }

        [Theory]
        [InlineData("", "it is empty")]
        [InlineData("{\"version\":2,", "it is not valid JSON")]
        [InlineData("[]", "it is not a JSON object")]
        [InlineData("{\"version\":2,\"stateId\":\"s\"}", "it has no allocations object")]
        public void Text_that_is_no_state_says_why(string text, string expected)
        {
            Assert.Null(StateStore.Parse(text, out var problem, out _));
            Assert.StartsWith(expected, problem, StringComparison.Ordinal);
        }

        [Theory]
        [InlineData("{\"version\":3,\"allocations\":{}}", 3)]
        [InlineData("{\"version\":99999999999,\"allocations\":{}}", int.MaxValue)] // beyond an int: newer than any
        [InlineData("{\"version\":2.5,\"allocations\":{}}", 1)] // a fraction is no version
        [InlineData("{\"version\":\"2\",\"allocations\":{}}", 1)]
        [InlineData("{\"allocations\":{}}", 1)]
        public void The_version_reads_as_it_always_did(string text, int expected) =>
            Assert.Equal(expected, StateStore.Parse(text, out _, out _).Version);

        [Fact]
        public void Strings_are_escaped_exactly_as_0_5_0s_serializer_escaped_them()
        {
            // Every character of the BMP up to U+3000 and the special ones beyond, one string each, against Newtonsoft.Json itself.
            var specials = new[] { "\u007f", "\u00a0", "\u0085", "\u2028", "\u2029", "\u202f", "\ue000", "\ufeff", "\uffff", "😀", "a\"b\\c'<&>+" };
            var all = Enumerable.Range(0, 0x3000).Where(c => c < 0xD800).Select(c => ((char)c).ToString()).Concat(specials);
            foreach (var text in all)
            {
                Assert.Equal(Newtonsoft.Json.JsonConvert.SerializeObject(text), StateJson.Quote(text));
            }
            // A lone surrogate: U+FFFD, which is what 0.5.0's UTF-8 encoding of its text wrote.
            Assert.Equal("\"a\uFFFDb\"", StateJson.Quote("a\ud800b"));
        }

        [Fact]
        public void An_enum_value_without_a_name_is_written_as_its_number_and_read_back()
        {
            var line = StateJson.WriteLine(new PortEvent { Time = DateTimeOffset.UnixEpoch, Kind = (PortEventKind)77 });
            Assert.Contains("\"kind\":77", line, StringComparison.Ordinal);
            Assert.Equal((PortEventKind)77, StateJson.ReadLine(line).Kind);
        }

        [Fact]
        public void A_name_given_twice_counts_once_with_its_last_value_and_an_unreadable_name_is_an_unreadable_file()
        {
            var good = "{\"appId\":\"web\",\"port\":21000,\"engine\":\"Docker\",\"allocatedAt\":\"2026-12-02T07:25:14+00:00\"}";
            var document = StateStore.Parse("{\"version\":2,\"stateId\":\"x\",\"stateId\":\"s\",\"allocations\":{\"web\":{\"port\":\"bad\"},\"web\":" + good + "}}", out var problem, out var dropped);
            Assert.Null(problem);
            Assert.Empty(dropped);
            Assert.Equal(("s", 21000), (document.StateId, document.Allocations["web"].Port));

            Assert.Null(StateStore.Parse("{\"version\":2,\"stateId\":\"\\udead\",\"allocations\":{}}", out problem, out _));
            Assert.StartsWith("it cannot be read: ", problem, StringComparison.Ordinal);
        }

        [Fact]
        public void Every_character_a_string_may_hold_writes_back_as_read()
        {
            var reason = "quote \" backslash \\ newline \n tab \t nul \0 bell \u0007 e-acute é cjk 港 emoji 😀 plus + lt < amp &";
            var line = StateJson.WriteLine(new PortEvent { Time = DateTimeOffset.UnixEpoch, Kind = PortEventKind.Released, Reason = reason });
            Assert.DoesNotContain('\n', line);
            Assert.Contains("é cjk 港 emoji 😀 plus + lt < amp &", line, StringComparison.Ordinal); // only what JSON requires is escaped
            Assert.Equal(reason, StateJson.ReadLine(line).Reason);
        }
    }
}
