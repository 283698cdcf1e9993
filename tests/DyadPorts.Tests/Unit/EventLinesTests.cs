using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using DyadPorts.Core.Engines;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary>
    /// <see cref="EventLines"/>: the engine's /events bytes, cut into whole lines the moment each newline arrives, for
    /// every way the stream can be cut into reads (one byte at a time up to all at once, and a read of exactly 1,024
    /// bytes ending on a newline, the size at which Docker.DotNet's own reader held the last event back).
    /// </summary>
    public sealed class EventLinesTests
    {
        // As podman 4.3.1's compat /events sent them (trimmed attributes), each with json.Encoder's newline.
        private static readonly string[] Events =
        {
            "{\"status\":\"create\",\"id\":\"d7a80fbbe0fe\",\"Type\":\"container\",\"Action\":\"create\",\"Actor\":{\"ID\":\"d7a80fbbe0fe\",\"Attributes\":{\"name\":\"dyad-app-t36d8a2-legacy\"}},\"scope\":\"local\",\"time\":1796030172,\"timeNano\":1796030172090623207}",
            "{\"status\":\"remove\",\"id\":\"d7a80fbbe0fe\",\"Type\":\"container\",\"Action\":\"remove\",\"Actor\":{\"ID\":\"d7a80fbbe0fe\",\"Attributes\":{\"name\":\"dyad-app-t36d8a2-legacy\"}},\"scope\":\"local\",\"time\":1796030173,\"timeNano\":1796030173071755508}",
            "{\"status\":\"start\",\"id\":\"c3b56ef178d7\",\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{\"ID\":\"c3b56ef178d7\",\"Attributes\":{\"name\":\"é-ünïcode\"}},\"scope\":\"local\",\"time\":1796030172,\"timeNano\":1796030172566000000}",
        };

        [Fact]
        public void Each_line_comes_out_with_the_read_that_holds_its_newline_at_every_read_size()
        {
            var bytes = Encoding.UTF8.GetBytes(string.Concat(Events.Select(e => e + "\n")));
            var ends = new List<int>();
            for (var i = 0; i < bytes.Length; i++) if (bytes[i] == (byte)'\n') ends.Add(i);
            for (var size = 1; size <= bytes.Length; size++)
            {
                var lines = new EventLines();
                var seen = new List<string>();
                for (var at = 0; at < bytes.Length; at += size)
                {
                    var length = Math.Min(size, bytes.Length - at);
                    var got = lines.Add(bytes.AsSpan(at, length));
                    // Exactly the lines whose newline is in this read, no later.
                    var from = at;
                    Assert.Equal(ends.Count(e => e >= from && e < from + length), got.Count);
                    seen.AddRange(got);
                }
                Assert.Equal(Events, seen);
                Assert.Equal(0, lines.Pending);
            }
        }

        [Fact]
        public void A_read_of_exactly_1024_bytes_ending_on_a_newline_hands_its_event_out_at_once()
        {
            var body = Events[1];
            var line = body.Insert(body.Length - 1, ",\"pad\":\"" + new string('x', 1023 - body.Length - 9) + "\"");
            var bytes = Encoding.UTF8.GetBytes(line + "\n");
            Assert.Equal(1024, bytes.Length);
            Assert.Equal(new[] { line }, new EventLines().Add(bytes));
        }

        [Fact]
        public void Blank_lines_and_carriage_returns_are_not_events_and_a_partial_line_waits()
        {
            var lines = new EventLines();
            Assert.Empty(lines.Add(Encoding.UTF8.GetBytes("\r\n\n" + Events[0][..10])));
            Assert.Equal(10, lines.Pending);
            Assert.Equal(new[] { Events[0] }, lines.Add(Encoding.UTF8.GetBytes(Events[0][10..] + "\r\n")));
        }
    }
}
