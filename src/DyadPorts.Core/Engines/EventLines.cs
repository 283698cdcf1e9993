using System;
using System.Buffers;
using System.Collections.Generic;
using System.Text;

namespace DyadPorts.Core.Engines
{
    /// <summary>
    /// Cuts the engine's /events stream, newline-delimited JSON (dockerd and podman write each event with Go's
    /// json.Encoder, one object and a newline), into whole lines as its bytes arrive: a line is handed out as soon as
    /// its newline is in, whatever the reads' sizes. Docker.DotNet's own reader (a StreamReader under a JsonTextReader)
    /// does not: when a read fills its 1,024-byte buffer exactly, StreamReader reads again before it returns, so the last
    /// event of a burst waited for the next event, seconds or for good (podman's last removal before an 11 s quiet
    /// spell, in a full test run, was never seen by a view in 3 s). Pure: bytes in, lines out.
    /// </summary>
    public sealed class EventLines
    {
        private readonly ArrayBufferWriter<byte> _partial = new ArrayBufferWriter<byte>();

        /// <summary>The complete, non-blank lines in <paramref name="bytes"/> together with what came before; keeps the rest.</summary>
        public IReadOnlyList<string> Add(ReadOnlySpan<byte> bytes)
        {
            var lines = new List<string>();
            while (true)
            {
                var newline = bytes.IndexOf((byte)'\n');
                if (newline < 0) break;
                _partial.Write(bytes[..newline]);
                var line = Encoding.UTF8.GetString(_partial.WrittenSpan).Trim();
                _partial.ResetWrittenCount();
                if (line.Length > 0) lines.Add(line);
                bytes = bytes[(newline + 1)..];
            }
            _partial.Write(bytes);
            return lines;
        }

        /// <summary>Bytes of a line whose newline has not come yet.</summary>
        public int Pending => _partial.WrittenCount;
    }
}
