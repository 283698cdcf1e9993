using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using DyadPorts.Core.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace DyadPorts.Core.State
{
    /// <summary>
    /// The history beside the state: one JSON line per decision, appended under the state lock. It rotates at
    /// <see cref="RotateAtBytes"/> and keeps one old file. A crash mid-append leaves at most one torn last line:
    /// the reader skips it with a warning, and the next writer first cuts the file back to its last newline, so
    /// the torn line never swallows the next good one. Same no-symlink and ownership rules as the state file.
    /// </summary>
    public sealed class Journal
    {
        public const long RotateAtBytes = 4 * 1024 * 1024;

        public Journal(string statePath)
        {
            Path = statePath + ".history.jsonl";
        }

        public string Path { get; }
        public string OldPath => Path + ".1";

        /// <summary>Writes one journal line in memory, so that the first real append finds its serializer compiled (<see cref="Session.ColdStart"/>).</summary>
        internal static string Warm() =>
            StateJson.WriteLine(new PortEvent { Kind = PortEventKind.Allocated, AppId = "warm", Port = 1, Endpoint = "unix:///warm" });

        /// <summary>Appends the events; call under the state lock. A torn last line from a crash is cut off first.</summary>
        internal void Append(IReadOnlyList<PortEvent> events, long rotateAt = RotateAtBytes)
        {
            if (events.Count == 0) return;
            var text = new StringBuilder();
            foreach (var e in events) text.Append(StateJson.WriteLine(e)).Append('\n');
            var bytes = new UTF8Encoding(false).GetBytes(text.ToString());
            try
            {
                if (!UnixFiles.Supported)
                {
                    RotateIfLarge(new FileInfo(Path).Exists ? new FileInfo(Path).Length : 0, rotateAt);
                    using (var stream = new FileStream(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read))
                    {
                        AppendTo(stream, bytes);
                    }
                    return;
                }
                using (var stream = OpenForAppend())
                {
                    if (stream.Length >= rotateAt)
                    {
                        stream.Dispose();
                        RotateIfLarge(rotateAt, rotateAt);
                        using (var fresh = OpenForAppend())
                        {
                            AppendTo(fresh, bytes);
                        }
                        return;
                    }
                    AppendTo(stream, bytes);
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new DyadPortsException(ErrorIds.StateWriteFailed, FailureCategory.WriteError, Path, $"Could not append to the DyadPorts history '{Path}': {e.Message}", e);
            }
        }

        private FileStream OpenForAppend() =>
            SafeFiles.Stream(SafeFiles.OpenOwned(Path, UnixFiles.ReadWrite | UnixFiles.Create, "history file"), FileAccess.ReadWrite);

        private static void AppendTo(FileStream stream, byte[] bytes)
        {
            var length = stream.Length;
            if (length > 0)
            {
                // Cut a torn last line (a crash mid-append) back to the last newline before writing.
                var keep = LastNewlineEnd(stream, length);
                if (keep != length) stream.SetLength(keep);
                length = keep;
            }
            stream.Seek(length, SeekOrigin.Begin);
            stream.Write(bytes, 0, bytes.Length);
            stream.Flush(true);
        }

        /// <summary>The length up to and including the last '\n'; 0 when there is none.</summary>
        private static long LastNewlineEnd(FileStream stream, long length)
        {
            var buffer = new byte[4096];
            var end = length;
            while (end > 0)
            {
                var start = Math.Max(0, end - buffer.Length);
                stream.Seek(start, SeekOrigin.Begin);
                var read = stream.Read(buffer, 0, (int)(end - start));
                for (var i = read - 1; i >= 0; i--)
                {
                    if (buffer[i] == (byte)'\n') return start + i + 1;
                }
                end = start;
            }
            return 0;
        }

        private void RotateIfLarge(long length, long rotateAt)
        {
            if (length < rotateAt) return;
            if (UnixFiles.Supported) UnixFiles.Rename(Path, OldPath);
            else File.Copy(Path, OldPath, true);
            if (!UnixFiles.Supported) File.WriteAllText(Path, string.Empty);
        }

        /// <summary>
        /// Every readable event, oldest first (the rotated file, then the current one). Unreadable lines are skipped and
        /// reported; so is a history file that cannot be read or is unsafe (a link, another user's file): the history
        /// is then missing, and nothing else fails. Without the state lock a writer may be mid-append, rotating or
        /// cutting a torn line: read through <see cref="StateStore.ReadHistory"/>, which takes it.
        /// </summary>
        public IReadOnlyList<PortEvent> Read(Action<string> warn)
        {
            var events = new List<PortEvent>();
            foreach (var path in new[] { OldPath, Path })
            {
                string text;
                try
                {
                    text = ReadText(path);
                }
                catch (DyadPortsException e) when (e.ErrorId == ErrorIds.StateReadFailed || e.ErrorId == ErrorIds.StateFileUnsafe)
                {
                    warn($"{e.ErrorId}: {e.Message} The history in it was left out.");
                    continue;
                }
                if (text == null) continue;
                var lines = text.Split('\n');
                for (var i = 0; i < lines.Length; i++)
                {
                    var line = lines[i];
                    if (string.IsNullOrWhiteSpace(line)) continue;
                    try
                    {
                        var e = StateJson.ReadLine(line);
                        if (e != null) events.Add(e);
                    }
                    catch (Exception x) when (JsonShape.IsMismatch(x))
                    {
                        var torn = i == lines.Length - 1;
                        warn(torn
                            ? $"The last line of the DyadPorts history '{path}' is incomplete (a write was interrupted); it was skipped."
                            : $"Line {i + 1} of the DyadPorts history '{path}' is not a journal entry; it was skipped.");
                    }
                }
            }
            return events;
        }

        private static string ReadText(string path)
        {
            var bytes = SafeFiles.ReadOwned(path, "history file", allowFolder: false, out _);
            return bytes == null ? null : new UTF8Encoding(false).GetString(bytes);
        }
    }
}
