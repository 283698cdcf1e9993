using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using DyadPorts.Core.Engines;

namespace DyadPorts.Core.Agent
{
    /// <summary>
    /// The agent's protocol: one request and one answer per connection, each a frame (a 4-byte little-endian length,
    /// then that many bytes) of fields written with <see cref="BinaryWriter"/>, led by a version byte. Pure: no socket,
    /// no engine. Anything malformed (a wrong version, a length past <see cref="MaxFrame"/>, a frame cut short, counts
    /// that do not fit) is <see cref="InvalidDataException"/>, which both ends turn into "no answer": the asker lists.
    /// </summary>
    public static class AgentWire
    {
        public const byte Version = 1;

        /// <summary>
        /// A status request (Get-DyadPortAgent) is this one byte alone, and its answer is led by it: an agent of 0.6.3 or
        /// older reads it as a protocol version it does not speak and closes the connection, and the asker says so.
        /// </summary>
        public const byte StatusVersion = 2;

        /// <summary>The largest frame either end reads: a thousand containers with their labels take a few hundred KB.</summary>
        public const int MaxFrame = 16 * 1024 * 1024;

        /// <summary>
        /// The longest request an agent reads: an endpoint, a TLS folder and at most <see cref="EngineAgent.MostChanges"/>
        /// container ids take a few kilobytes, so a peer that announces more is refused before anything is allocated for it.
        /// </summary>
        public const int MaxRequestFrame = 64 * 1024;

        // The fewest bytes one element takes, so that a count can be checked against the bytes left before anything is
        // allocated for it: a change (an empty id, a flag), a label (two empty strings), a port (two ints, a flag, an empty
        // string), a container (an empty id, three absent strings, two counts, no created time).
        private const int ChangeBytes = 2, LabelBytes = 2, PortBytes = 10, ContainerBytes = 13, EndpointBytes = 19;

        public static byte[] Encode(AgentRequest request)
        {
            ArgumentNullException.ThrowIfNull(request);
            return Write(w =>
            {
                w.Write(request.Endpoint ?? throw new ArgumentException("A request names its endpoint.", nameof(request)));
                w.Write((byte)request.Kind);
                WriteOptional(w, request.TlsFolder);
                WriteOptional(w, request.TlsSource);
                w.Write(request.Changed.Count);
                foreach (var change in request.Changed)
                {
                    w.Write(change.Key);
                    w.Write(change.Value);
                }
            });
        }

        public static AgentRequest DecodeRequest(byte[] frame) => Read(frame, r =>
        {
            var endpoint = r.ReadString();
            var kind = (EngineKind)r.ReadByte();
            if (!Enum.IsDefined(kind)) throw new InvalidDataException($"Unknown engine kind {(int)kind}.");
            var folder = ReadOptional(r);
            var source = ReadOptional(r);
            var count = Count(r, ChangeBytes);
            var changed = new List<KeyValuePair<string, bool>>(count);
            for (var i = 0; i < count; i++) changed.Add(new KeyValuePair<string, bool>(r.ReadString(), r.ReadBoolean()));
            return new AgentRequest { Endpoint = endpoint, Kind = kind, TlsFolder = folder, TlsSource = source, Changed = changed };
        });

        public static byte[] Encode(AgentAnswer answer)
        {
            ArgumentNullException.ThrowIfNull(answer);
            return Write(w =>
            {
                w.Write(answer.Containers != null);
                if (answer.Containers == null)
                {
                    w.Write(answer.Reason ?? "");
                    return;
                }
                w.Write(answer.Containers.Count);
                foreach (var c in answer.Containers) WriteContainer(w, c);
            });
        }

        public static AgentAnswer DecodeAnswer(byte[] frame) => Read(frame, r =>
        {
            if (!r.ReadBoolean()) return new AgentAnswer { Reason = r.ReadString() };
            var containers = new ContainerSummary[Count(r, ContainerBytes)];
            for (var i = 0; i < containers.Length; i++) containers[i] = ReadContainer(r);
            return new AgentAnswer { Containers = containers };
        });

        /// <summary>The status request: <see cref="StatusVersion"/> alone.</summary>
        public static byte[] StatusRequest() => new[] { StatusVersion };

        /// <summary>Whether a request frame is the status request.</summary>
        public static bool IsStatusRequest(byte[] frame) => frame is { Length: 1 } && frame[0] == StatusVersion;

        /// <summary>An agent's status, as its own frame (<see cref="StatusVersion"/>); the asker sets the path it asked at.</summary>
        public static byte[] Encode(AgentInfo status)
        {
            ArgumentNullException.ThrowIfNull(status);
            return Write(StatusVersion, w =>
            {
                w.Write(status.ProcessId);
                w.Write(status.StartedAt.UtcTicks);
                w.Write(status.Answered);
                w.Write(status.Declined);
                w.Write(status.Refused);
                w.Write(status.Failed);
                w.Write(status.ChangesInspected);
                w.Write(status.Endpoints.Count);
                foreach (var e in status.Endpoints)
                {
                    w.Write(e.Endpoint ?? "");
                    w.Write((byte)e.Engine);
                    w.Write(e.Live);
                    w.Write(e.Lists);
                    w.Write(e.EngineCalls);
                }
            });
        }

        public static AgentInfo DecodeStatus(byte[] frame, string path) => Read(frame, StatusVersion, r =>
        {
            var processId = r.ReadInt32();
            var startedAt = new DateTimeOffset(r.ReadInt64(), TimeSpan.Zero);
            long answered = r.ReadInt64(), declined = r.ReadInt64(), refused = r.ReadInt64(), failed = r.ReadInt64(), inspected = r.ReadInt64();
            var endpoints = new AgentEndpointInfo[Count(r, EndpointBytes)];
            for (var i = 0; i < endpoints.Length; i++)
            {
                var endpoint = r.ReadString();
                var kind = (EngineKind)r.ReadByte();
                if (!Enum.IsDefined(kind)) throw new InvalidDataException($"Unknown engine kind {(int)kind}.");
                endpoints[i] = new AgentEndpointInfo { Endpoint = endpoint, Engine = kind, Live = r.ReadBoolean(), Lists = r.ReadInt64(), EngineCalls = r.ReadInt64() };
            }
            return new AgentInfo
            {
                Path = path, ProcessId = processId, StartedAt = startedAt, Answered = answered, Declined = declined, Refused = refused,
                Failed = failed, ChangesInspected = inspected, Endpoints = endpoints,
            };
        });

        /// <summary>Writes one frame: its length, then its bytes (cancellable: a whole exchange runs under one deadline).</summary>
        public static async System.Threading.Tasks.Task WriteFrameAsync(Stream stream, byte[] frame, System.Threading.CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(stream);
            await stream.WriteAsync(Length(frame), cancellationToken).ConfigureAwait(false);
            await stream.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        /// <summary>
        /// Writes one frame and blocks until it is written: the session's side (<see cref="AgentClient"/>), which bounds the
        /// exchange by closing the socket. No task, no state machine: a one-shot process compiles none at run time (issue 18).
        /// </summary>
        public static void WriteFrame(Stream stream, byte[] frame)
        {
            ArgumentNullException.ThrowIfNull(stream);
            stream.Write(Length(frame));
            stream.Write(frame);
            stream.Flush();
        }

        /// <summary>One frame as the bytes on the wire, its length first: for a socket written once, without a stream.</summary>
        public static byte[] Framed(byte[] frame)
        {
            ArgumentNullException.ThrowIfNull(frame);
            var wire = new byte[4 + frame.Length];
            Length(frame).CopyTo(wire, 0);
            frame.CopyTo(wire, 4);
            return wire;
        }

        /// <summary>Reads one frame; <see cref="InvalidDataException"/> when it is longer than <see cref="MaxFrame"/> or cut short.</summary>
        public static System.Threading.Tasks.Task<byte[]> ReadFrameAsync(Stream stream, System.Threading.CancellationToken cancellationToken) =>
            ReadFrameAsync(stream, MaxFrame, cancellationToken);

        /// <summary>Reads one frame of at most <paramref name="most"/> bytes (<see cref="MaxRequestFrame"/> for a request).</summary>
        public static async System.Threading.Tasks.Task<byte[]> ReadFrameAsync(Stream stream, int most, System.Threading.CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(stream);
            var length = new byte[4];
            await ReadExactlyAsync(stream, length, cancellationToken).ConfigureAwait(false);
            var frame = Frame(length, most);
            await ReadExactlyAsync(stream, frame, cancellationToken).ConfigureAwait(false);
            return frame;
        }

        /// <summary>Reads one frame, blocking (<see cref="WriteFrame"/>), with the same checks as <see cref="ReadFrameAsync"/>.</summary>
        public static byte[] ReadFrame(Stream stream)
        {
            ArgumentNullException.ThrowIfNull(stream);
            var length = new byte[4];
            ReadExactly(stream, length);
            var frame = Frame(length, MaxFrame);
            ReadExactly(stream, frame);
            return frame;
        }

        /// <summary>A frame's 4-byte little-endian length.</summary>
        private static byte[] Length(byte[] frame)
        {
            ArgumentNullException.ThrowIfNull(frame);
            var length = new byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(length, frame.Length);
            return length;
        }

        /// <summary>The buffer for a frame of the length read, which must be 1 to <paramref name="most"/> bytes.</summary>
        private static byte[] Frame(byte[] length, int most)
        {
            var size = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(length);
            if (size < 1 || size > most) throw new InvalidDataException($"A frame of {size} bytes, more than the {most} read.");
            return new byte[size];
        }

        private static async System.Threading.Tasks.Task ReadExactlyAsync(Stream stream, byte[] buffer, System.Threading.CancellationToken cancellationToken)
        {
            try
            {
                await stream.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (EndOfStreamException e)
            {
                throw CutShort(e);
            }
        }

        private static void ReadExactly(Stream stream, byte[] buffer)
        {
            try
            {
                stream.ReadExactly(buffer);
            }
            catch (EndOfStreamException e)
            {
                throw CutShort(e);
            }
        }

        private static InvalidDataException CutShort(EndOfStreamException e) => new InvalidDataException("The frame was cut short.", e);

        private static void WriteContainer(BinaryWriter w, ContainerSummary c)
        {
            w.Write(c.Id ?? "");
            WriteOptional(w, c.Name);
            WriteOptional(w, c.State);
            WriteOptional(w, c.Image);
            w.Write(c.Labels.Count);
            foreach (var label in c.Labels)
            {
                w.Write(label.Key);
                w.Write(label.Value ?? "");
            }
            w.Write(c.Ports.Count);
            foreach (var p in c.Ports)
            {
                w.Write(p.HostPort);
                WriteOptional(w, p.HostIp);
                w.Write(p.ContainerPort);
                w.Write(p.Protocol);
            }
            w.Write(c.Created.HasValue);
            if (c.Created is DateTimeOffset created) w.Write(created.UtcTicks);
        }

        private static ContainerSummary ReadContainer(BinaryReader r)
        {
            var c = new ContainerSummary { Id = r.ReadString(), Name = ReadOptional(r), State = ReadOptional(r), Image = ReadOptional(r) };
            var labelCount = Count(r, LabelBytes);
            var labels = new Dictionary<string, string>(labelCount, StringComparer.Ordinal);
            for (var i = 0; i < labelCount; i++) labels[r.ReadString()] = r.ReadString();
            c.Labels = labels;
            var ports = new PublishedPort[Count(r, PortBytes)];
            for (var i = 0; i < ports.Length; i++) ports[i] = new PublishedPort(r.ReadInt32(), ReadOptional(r), r.ReadInt32(), r.ReadString());
            c.Ports = ports;
            if (r.ReadBoolean()) c.Created = new DateTimeOffset(r.ReadInt64(), TimeSpan.Zero);
            return c;
        }

        private static void WriteOptional(BinaryWriter w, string value)
        {
            w.Write(value != null);
            if (value != null) w.Write(value);
        }

        private static string ReadOptional(BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;

        /// <summary>
        /// A count of elements of at least <paramref name="elementBytes"/> each, which the bytes left must hold: a corrupt
        /// count fails here, not as a huge allocation.
        /// </summary>
        private static int Count(BinaryReader r, int elementBytes)
        {
            var count = r.ReadInt32();
            var left = r.BaseStream.Length - r.BaseStream.Position;
            if (count < 0 || (long)count * elementBytes > left) throw new InvalidDataException($"A count of {count} with {left} bytes left.");
            return count;
        }

        private static byte[] Write(Action<BinaryWriter> body) => Write(Version, body);

        private static byte[] Write(byte version, Action<BinaryWriter> body)
        {
            using var buffer = new MemoryStream();
            using (var w = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
            {
                w.Write(version);
                body(w);
            }
            return buffer.ToArray();
        }

        private static T Read<T>(byte[] frame, Func<BinaryReader, T> body) => Read(frame, Version, body);

        private static T Read<T>(byte[] frame, byte expected, Func<BinaryReader, T> body)
        {
            ArgumentNullException.ThrowIfNull(frame);
            using var r = new BinaryReader(new MemoryStream(frame, writable: false), Encoding.UTF8);
            try
            {
                var version = r.ReadByte();
                if (version != expected) throw new InvalidDataException($"Protocol version {version}; this DyadPorts speaks {expected} here.");
                var value = body(r);
                if (r.BaseStream.Position != frame.Length) throw new InvalidDataException("The frame holds more than its fields.");
                return value;
            }
            catch (EndOfStreamException e)
            {
                throw new InvalidDataException("A frame cut short.", e);
            }
            catch (Exception e) when (e is FormatException || e is ArgumentException || e is OverflowException)
            {
                // A string of a bad length or encoding, a created time out of range, a duplicate label.
                throw new InvalidDataException($"A malformed field ({e.Message}).", e);
            }
        }
    }
}
