using System;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using DyadPorts.Core.Diagnostics;
using Newtonsoft.Json;
using Newtonsoft.Json.Converters;

namespace DyadPorts.Core.State
{
    /// <summary>
    /// The JSON state file shared by every runspace and process. Each update runs under the cross-process
    /// lock and lands atomically (write a temp file, flush, rename), so a reader never sees half a file.
    /// </summary>
    public sealed class StateStore
    {
        public const string PathVariable = "DYAD_PORTS_STATE";
        private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);
        private static readonly JsonSerializerSettings Json = new JsonSerializerSettings
        {
            Formatting = Formatting.Indented,
            DateParseHandling = DateParseHandling.DateTimeOffset,
            Converters = { new StringEnumConverter() },
            MissingMemberHandling = MissingMemberHandling.Ignore,
        };

        public StateStore(string path)
        {
            Path = System.IO.Path.GetFullPath(path);
        }

        public string Path { get; }
        private string LockPath => Path + ".lock";

        /// <summary>DYAD_PORTS_STATE, else $XDG_STATE_HOME/dyadports/state.json (~/.local/state), else %LOCALAPPDATA%\DyadPorts\state.json.</summary>
        public static string ResolvePath(Func<string, string> environment)
        {
            var explicitPath = environment(PathVariable);
            if (!string.IsNullOrWhiteSpace(explicitPath)) return explicitPath;
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                return System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "DyadPorts", "state.json");
            }
            var stateHome = environment("XDG_STATE_HOME");
            if (string.IsNullOrWhiteSpace(stateHome))
            {
                stateHome = System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state");
            }
            return System.IO.Path.Combine(stateHome, "dyadports", "state.json");
        }

        /// <summary>
        /// Reads, lets <paramref name="change"/> edit, and writes back only if the document changed.
        /// A corrupt file is backed up and replaced by <paramref name="rebuild"/>'s document, with a warning.
        /// </summary>
        public T Update<T>(Func<StateDocument, T> change, Func<StateDocument> rebuild, IOperationLog log, CancellationToken cancellationToken)
        {
            EnsureDirectory();
            using (CrossProcessLock.Acquire(LockPath, LockTimeout, cancellationToken))
            {
                var document = ReadOrRecover(rebuild, log, out var recovered);
                var before = JsonConvert.SerializeObject(document, Json);
                var result = change(document);
                var after = JsonConvert.SerializeObject(document, Json);
                if (recovered || !string.Equals(before, after, StringComparison.Ordinal)) WriteAtomically(after);
                return result;
            }
        }

        /// <summary>A consistent copy of the state; takes the lock so it never reads between two writers.</summary>
        public StateDocument Read(Func<StateDocument> rebuild, IOperationLog log, CancellationToken cancellationToken) =>
            Update(document => document, rebuild, log, cancellationToken);

        /// <summary>
        /// The state as it is on disk, without the lock and without repairing anything: for completers and
        /// views that must never write. An atomic rename means a reader sees a whole old or a whole new file.
        /// Null when the file is missing or unreadable.
        /// </summary>
        public StateDocument Peek()
        {
            try
            {
                return File.Exists(Path) && Validate(File.ReadAllText(Path, Encoding.UTF8), out var document) == null ? document : null;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                return null;
            }
        }

        private StateDocument ReadOrRecover(Func<StateDocument> rebuild, IOperationLog log, out bool recovered)
        {
            recovered = false;
            string problem;
            if (Directory.Exists(Path))
            {
                problem = "it is a directory";
            }
            else if (!File.Exists(Path))
            {
                return new StateDocument();
            }
            else
            {
                string text;
                try
                {
                    text = File.ReadAllText(Path, Encoding.UTF8);
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    throw new DyadPortsException(ErrorIds.StateFileCorrupt, FailureCategory.ReadError, Path,
                        $"Cannot read the DyadPorts state file '{Path}': {e.Message}", e);
                }
                problem = Validate(text, out var document);
                if (problem == null) return document;
            }

            var backup = BackUp();
            var rebuilt = rebuild();
            log.Warning($"{ErrorIds.StateFileCorrupt}: the state file '{Path}' was unreadable ({problem}). " +
                        $"It was moved to '{backup}' and {rebuilt.Allocations.Count} allocation(s) were rebuilt from DyadPorts-labelled containers.");
            recovered = true;
            return rebuilt;
        }

        /// <summary>Null when the text is a usable state document, else what is wrong with it.</summary>
        internal static string Validate(string text, out StateDocument document)
        {
            document = null;
            if (string.IsNullOrWhiteSpace(text)) return "it is empty";
            try
            {
                document = JsonConvert.DeserializeObject<StateDocument>(text, Json);
            }
            catch (JsonException e)
            {
                return "it is not valid JSON: " + e.Message;
            }
            if (document?.Allocations == null) return "it has no allocations object";
            if (document.Version > StateDocument.CurrentVersion) return $"it has version {document.Version}, newer than this module understands ({StateDocument.CurrentVersion})";
            foreach (var entry in document.Allocations)
            {
                var record = entry.Value;
                if (record == null || record.Port < 1 || record.Port > 65535 || !string.Equals(record.AppId, entry.Key, StringComparison.Ordinal))
                {
                    return $"the allocation '{entry.Key}' is malformed";
                }
            }
            return null;
        }

        private string BackUp()
        {
            var backup = $"{Path}.corrupt-{DateTime.UtcNow.ToString("yyyyMMddTHHmmssfff", CultureInfo.InvariantCulture)}";
            try
            {
                if (Directory.Exists(Path)) Directory.Move(Path, backup);
                else File.Move(Path, backup);
                return backup;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new DyadPortsException(ErrorIds.StateFileCorrupt, FailureCategory.WriteError, Path,
                    $"The DyadPorts state file '{Path}' is corrupt and could not be moved aside to '{backup}': {e.Message}. Move it away by hand.", e);
            }
        }

        private void WriteAtomically(string json)
        {
            var temp = $"{Path}.{Guid.NewGuid():N}.tmp";
            try
            {
                using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    OwnerOnlyPermissions.Apply(temp);
                    var bytes = new UTF8Encoding(false).GetBytes(json);
                    stream.Write(bytes, 0, bytes.Length);
                    stream.Flush(true);
                }
                if (File.Exists(Path)) File.Replace(temp, Path, null);
                else File.Move(temp, Path);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                TryDelete(temp);
                throw new DyadPortsException(ErrorIds.StateWriteFailed, FailureCategory.WriteError, Path,
                    $"Could not write the DyadPorts state file '{Path}': {e.Message}", e);
            }
        }

        private void EnsureDirectory()
        {
            var directory = System.IO.Path.GetDirectoryName(Path);
            if (string.IsNullOrEmpty(directory) || Directory.Exists(directory)) return;
            Directory.CreateDirectory(directory);
            OwnerOnlyPermissions.Apply(directory, directory: true);
        }

        private static void TryDelete(string path)
        {
            try { File.Delete(path); } catch (Exception) { /* best effort: a stray temp file is harmless */ }
        }
    }
}
