using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Ledger;
using System.Text.Json;

namespace DyadPorts.Core.State
{
    /// <summary>
    /// The JSON state file shared by every runspace and process. Each update runs under the cross-process
    /// lock and lands atomically (an O_EXCL temp file, fsync, rename), so a reader never sees half a file.
    /// A corrupt file is backed up and rebuilt from the engine's labelled containers; a file of a newer
    /// version, a symlink or another user's file is refused and left exactly as it is.
    /// </summary>
    public sealed partial class StateStore
    {
        public const string PathVariable = "DYAD_PORTS_STATE";
        private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);
        [GeneratedRegex("\"stateId\"\\s*:\\s*\"([0-9a-f]{8,64})\"", RegexOptions.CultureInvariant)]
        private static partial Regex SalvageStateId { get; }
        [GeneratedRegex("\"adoptedStateIds\"\\s*:\\s*\\[([^\\]]*)", RegexOptions.CultureInvariant)] // to the end of a cut file too
        private static partial Regex SalvageAdopted { get; }
        [GeneratedRegex("\"([0-9a-f]{8,64})\"", RegexOptions.CultureInvariant)]
        private static partial Regex SalvageId { get; }

        public StateStore(string path)
        {
            Path = System.IO.Path.GetFullPath(path);
            Journal = new Journal(Path);
        }

        public string Path { get; }

        /// <summary>The history beside the state; <see cref="StateDocument.Record"/> appends to it within an update.</summary>
        public Journal Journal { get; }
        private string LockPath => Path + ".lock";
        private string Folder => System.IO.Path.GetDirectoryName(Path);

        /// <summary>The id a new state file at this path gets, and the one recovery falls back to.</summary>
        /// <remarks>
        /// Derived when first needed (a new file, a recovery, a file without an id): the command on a file that has
        /// its id neither reads /etc/machine-id nor hashes, so it never loads the platform's cryptography (OpenSSL on
        /// Linux) for it (docs/bench/oneshot-lazy-hash-2026-11-30.txt). Two threads that race here derive the same id.
        /// </remarks>
        public string DerivedStateId => _derivedStateId ??= Derive(Path);
        private string _derivedStateId;

        /// <summary>DYAD_PORTS_STATE, else $XDG_STATE_HOME/dyadports/state.json (~/.local/state), else %LOCALAPPDATA%\DyadPorts\state.json.</summary>
        public static string ResolvePath(Func<string, string> environment)
        {
            var explicitPath = environment(PathVariable);
            return string.IsNullOrWhiteSpace(explicitPath) ? DefaultPath(environment) : explicitPath;
        }

        /// <summary>The per-user state file: $XDG_STATE_HOME/dyadports/state.json (~/.local/state/...), or %LOCALAPPDATA%\DyadPorts\state.json.</summary>
        public static string DefaultPath(Func<string, string> environment)
        {
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
        /// One app's start (or stop) lock, across threads, runspaces and processes: one of <see cref="AppLocks.Stripes"/>
        /// fixed lock files beside the state, chosen by the AppId's hash, with the state's safety rules. Two apps on one
        /// stripe serialise; a thread that holds the stripe already is let through rather than deadlocked.
        /// </summary>
        internal IAppLock LockApp(string appId, TimeSpan timeout, Func<string, TimeSpan, DyadPortsException> timedOut, CancellationToken cancellationToken)
        {
            SafeFiles.EnsureFolder(Folder);
            return AppLocks.Acquire(Path, appId, timeout, timedOut, cancellationToken);
        }

        /// <summary>
        /// The history, read under the state lock, so no append, rotation or torn-line cut is half-seen (no spurious
        /// "incomplete last line"). A history that cannot be read or is unsafe is a warning, never a failure. Without a
        /// state folder there is nothing to read, and nothing is created.
        /// </summary>
        public IReadOnlyList<PortEvent> ReadHistory(Action<string> warn, CancellationToken cancellationToken)
        {
            if (!Directory.Exists(Folder)) return Array.Empty<PortEvent>();
            SafeFiles.EnsureFolder(Folder);
            using (CrossProcessLock.Acquire(LockPath, LockTimeout, cancellationToken))
            {
                return Journal.Read(warn);
            }
        }

        /// <summary>
        /// Reads, lets <paramref name="change"/> edit, and writes back only if the document changed.
        /// A missing or corrupt file is replaced by <paramref name="rebuild"/>'s document (given the state id),
        /// which is asked for before anything is moved: if it fails, the file stays where it is.
        /// </summary>
        public T Update<T>(Func<StateDocument, T> change, Func<StateIdentity, StateDocument> rebuild, IOperationLog log, CancellationToken cancellationToken)
        {
            SafeFiles.EnsureFolder(Folder);
            using (CrossProcessLock.Acquire(LockPath, LockTimeout, cancellationToken))
            {
                var document = ReadOrRecover(rebuild, log, out var mustWrite);
                var before = mustWrite ? null : StateJson.Write(document);
                var result = change(document);
                var after = StateJson.Write(document);
                if (mustWrite || !string.Equals(before, after, StringComparison.Ordinal)) WriteAtomically(after);
                // Still under the lock: the journal's order is the state's order. The state is the truth: a history
                // that cannot be written is warned about, and never turns a saved change into a failure.
                try
                {
                    Journal.Append(document.Pending);
                }
                catch (DyadPortsException e)
                {
                    log.Warning($"{e.ErrorId}: {e.Message} The state itself was saved; {document.Pending.Count} history event(s) were not recorded.");
                }
                document.Pending.Clear();
                return result;
            }
        }

        /// <summary>A consistent copy of the state; takes the lock so it never reads between two writers.</summary>
        public StateDocument Read(Func<StateIdentity, StateDocument> rebuild, IOperationLog log, CancellationToken cancellationToken) =>
            Update(document => document, rebuild, log, cancellationToken);

        /// <summary>
        /// The state as it is on disk, without the lock and without repairing anything: for completers and
        /// views that must never write. An atomic rename means a reader sees a whole old or a whole new file.
        /// Null when the file is missing, unreadable, unsafe or of a newer version.
        /// </summary>
        public StateDocument Peek()
        {
            try
            {
                var text = ReadText(out var isFolder);
                if (text == null || isFolder) return null;
                var document = Parse(text, out _, out _);
                return document?.Version > StateDocument.CurrentVersion ? null : document;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is DyadPortsException)
            {
                return null;
            }
        }

        /// <summary>
        /// As <see cref="Peek"/>, but only a document that needs nothing done to it: current version, a state id and
        /// no malformed record. Null sends the caller to the locked path, which migrates, repairs or recovers.
        /// </summary>
        internal StateDocument PeekSound()
        {
            try
            {
                var text = ReadText(out var isFolder);
                if (text == null || isFolder) return null;
                var document = Parse(text, out _, out var dropped);
                return document != null && dropped.Count == 0 && document.Version == StateDocument.CurrentVersion && !string.IsNullOrEmpty(document.StateId) ? document : null;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is DyadPortsException)
            {
                return null;
            }
        }

        /// <summary>
        /// Reads and writes a small state in memory, through the file format, so that what the first real read and write
        /// need compiled (<see cref="StateJson"/>'s code and the collections it fills) is (<see cref="Session.ColdStart"/>).
        /// </summary>
        /// <returns>The state as read back.</returns>
        internal static StateDocument Warm()
        {
            var sample = new StateDocument { StateId = "0000000000000000" };
            sample.Allocations["warm"] = new AllocationRecord { AppId = "warm", Port = 1, Engine = EngineKind.Docker, AllocatedAt = DateTimeOffset.UnixEpoch, ContainerId = "0", Host = "warm" };
            sample.Counters["warm"] = 1;
            return Clone(sample);
        }

        /// <summary>A deep copy, through the file format itself.</summary>
        internal static StateDocument Clone(StateDocument document) =>
            Parse(StateJson.Write(document), out _, out _);

        private StateDocument ReadOrRecover(Func<StateIdentity, StateDocument> rebuild, IOperationLog log, out bool mustWrite)
        {
            mustWrite = false;
            string text;
            bool isFolder;
            byte[] bytes;
            try
            {
                text = ReadText(out isFolder, out bytes);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new DyadPortsException(ErrorIds.StateReadFailed, FailureCategory.ReadError, Path,
                    $"Cannot read the DyadPorts state file '{Path}': {e.Message}. It was left as it is.", e);
            }

            if (text == null && !isFolder)
            {
                // No state yet: the engine's containers labelled with this state's id are all there is to know.
                // Without an engine to ask, a missing file loses nothing: it starts empty.
                StateDocument fresh;
                try
                {
                    fresh = rebuild(new StateIdentity(DerivedStateId));
                }
                catch (DyadPortsException e) when (e.ErrorId == ErrorIds.StateFileCorrupt)
                {
                    fresh = new StateDocument();
                }
                fresh.StateId = DerivedStateId;
                if (fresh.Allocations.Count > 0)
                {
                    fresh.Record(new PortEvent { Kind = PortEventKind.StateRecovered, Reason = $"missing file; {fresh.Allocations.Count} allocation(s) rebuilt from labelled containers" });
                    log.Warning($"{ErrorIds.StateFileCorrupt}: the state file '{Path}' was missing; {fresh.Allocations.Count} allocation(s) were rebuilt from this state's labelled containers.");
                    mustWrite = true;
                }
                return fresh;
            }

            string problem;
            StateDocument document = null;
            var dropped = new List<string>();
            if (isFolder)
            {
                problem = "it is a directory";
            }
            else
            {
                document = Parse(text, out problem, out dropped);
                if (document != null && document.Version > StateDocument.CurrentVersion) throw NewerVersion(document);
            }

            if (document != null && dropped.Count == 0)
            {
                mustWrite = Migrate(document);
                return document;
            }

            if (document != null)
            {
                // Some records were malformed: keep the rest, back up the original, and name what was dropped.
                Migrate(document);
                var keptBackup = BackUp(bytes);
                document.Record(new PortEvent { Kind = PortEventKind.StateRecovered, Reason = $"{dropped.Count} malformed record(s) dropped; original at {keptBackup}" });
                foreach (var why in dropped)
                {
                    log.Warning($"{ErrorIds.StateFileCorrupt}: {why} in '{Path}'; that record was dropped and the other {document.Allocations.Count} kept. The original file is at '{keptBackup}'.");
                }
                mustWrite = true;
                return document;
            }

            // Unreadable: rebuild first (it may need the engine, and may fail), then move the bad file aside.
            var identity = Salvage(text);
            var rebuilt = rebuild(identity);
            identity.Stamp(rebuilt);
            var backup = BackUp(bytes);
            rebuilt.Record(new PortEvent { Kind = PortEventKind.StateRecovered, Reason = $"unreadable file ({problem}); {rebuilt.Allocations.Count} allocation(s) rebuilt; original at {backup}" });
            log.Warning($"{ErrorIds.StateFileCorrupt}: the state file '{Path}' was unreadable ({problem}). " +
                        $"It was backed up to '{backup}' and {rebuilt.Allocations.Count} allocation(s) were rebuilt from this state's DyadPorts-labelled containers.");
            mustWrite = true;
            return rebuilt;
        }

        private DyadPortsException NewerVersion(StateDocument document) =>
            new DyadPortsException(ErrorIds.StateFileNewerVersion, FailureCategory.InvalidData, Path,
                $"The DyadPorts state file '{Path}' has version {document.Version}, but this module understands version {StateDocument.CurrentVersion} at most. " +
                "It was written by a newer DyadPorts and was left exactly as it is. Update the module (Update-PSResource DyadPorts), or point DYAD_PORTS_STATE elsewhere.");

        /// <summary>
        /// The state as the file holds it, to read only (a copy's source): no lock, nothing repaired, nothing written. A file
        /// of version 1 gets its derived state id in memory; a malformed record is left out, with a warning; a file that is no
        /// state is <see cref="ErrorIds.StateFileCorrupt"/>, a newer one <see cref="ErrorIds.StateFileNewerVersion"/>, a
        /// missing one <see cref="ErrorIds.StateFileNotFound"/>, and an unreadable or unsafe one fails as a read does.
        /// The atomic rename of every write means the file read is a whole one.
        /// </summary>
        public StateDocument ReadAsStored(IOperationLog log)
        {
            var text = ReadText(out var isFolder);
            if (text == null && !isFolder)
            {
                throw new DyadPortsException(ErrorIds.StateFileNotFound, FailureCategory.ObjectNotFound, Path,
                    $"There is no DyadPorts state file at '{Path}'. Nothing was read from it, and nothing was created.");
            }
            string problem = "it is a directory";
            var dropped = new List<string>();
            var document = isFolder ? null : Parse(text, out problem, out dropped);
            if (document == null)
            {
                throw new DyadPortsException(ErrorIds.StateFileCorrupt, FailureCategory.InvalidData, Path,
                    $"The DyadPorts state file '{Path}' cannot be read as a state ({problem}). It was left exactly as it is, and nothing was read from it.");
            }
            if (document.Version > StateDocument.CurrentVersion) throw NewerVersion(document);
            foreach (var why in dropped) log.Warning($"{ErrorIds.StateFileCorrupt}: {why} in '{Path}'; that record was left out, and the file was not changed.");
            Migrate(document);
            return document;
        }

        /// <summary>
        /// Brings an older document to the current version, in memory: version 1 had no state id, so it takes the id its
        /// path gives it. True when anything changed (the file then needs writing).
        /// </summary>
        private bool Migrate(StateDocument document)
        {
            if (document.Version >= StateDocument.CurrentVersion && !string.IsNullOrEmpty(document.StateId)) return false;
            document.Version = StateDocument.CurrentVersion;
            if (string.IsNullOrEmpty(document.StateId)) document.StateId = DerivedStateId;
            return true;
        }

        /// <summary>
        /// As <see cref="Salvage(string)"/>, for the file as it is now (the derived id when it cannot be read).
        /// </summary>
        internal StateIdentity SalvageIdentity()
        {
            try
            {
                return Salvage(ReadText(out _));
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is DyadPortsException)
            {
                return new StateIdentity(DerivedStateId);
            }
        }

        /// <summary>
        /// What an unreadable file still tells of its identity: its state id (else the one its path gives) and the ids
        /// it adopted, so that the rebuild takes the adopted previews too and the rebuilt state keeps them.
        /// </summary>
        internal StateIdentity Salvage(string text)
        {
            if (text == null) return new StateIdentity(DerivedStateId);
            var id = SalvageStateId.Match(text);
            var adopted = SalvageAdopted.Match(text);
            return new StateIdentity(id.Success ? id.Groups[1].Value : DerivedStateId,
                adopted.Success ? SalvageId.Matches(adopted.Groups[1].Value).Select(m => m.Groups[1].Value) : null);
        }

        /// <summary>The file's text (and bytes); null when it does not exist. Never follows a symlink, never reads another user's file.</summary>
        private string ReadText(out bool isFolder) => ReadText(out isFolder, out _);

        private string ReadText(out bool isFolder, out byte[] bytes)
        {
            bytes = SafeFiles.ReadOwned(Path, "state file", allowFolder: true, out isFolder);
            if (bytes == null) return null;
            return new UTF8Encoding(false).GetString(bytes);
        }

        /// <summary>
        /// The document, or null with <paramref name="problem"/> when the text is not one. Malformed records are
        /// left out and described in <paramref name="dropped"/>; the rest of the file is kept.
        /// </summary>
        internal static StateDocument Parse(string text, out string problem, out List<string> dropped)
        {
            problem = null;
            dropped = new List<string>();
            if (string.IsNullOrWhiteSpace(text)) { problem = "it is empty"; return null; }
            JsonDocument parsed;
            try
            {
                parsed = JsonDocument.Parse(text, StateJson.Reading);
            }
            catch (JsonException e)
            {
                problem = "it is not valid JSON: " + e.Message;
                return null;
            }
            using (parsed)
            {
                try
                {
                    return Parse(parsed.RootElement, out problem, dropped);
                }
                catch (Exception e) when (JsonShape.IsMismatch(e))
                {
                    // What no record's own reading covers: a name or the state id that is no text (an escaped lone surrogate).
                    problem = "it cannot be read: " + e.Message;
                    dropped.Clear();
                    return null;
                }
            }
        }

        private static StateDocument Parse(JsonElement root, out string problem, List<string> dropped)
        {
            problem = null;
            if (root.ValueKind != JsonValueKind.Object) { problem = "it is not a JSON object"; return null; }
            // A name given twice counts once, with its last value, as it always did.
            var members = StateJson.Members(root);
            JsonElement Member(string name) => StateJson.Member(members, name);
            var version = Member("version");
            var stateId = Member("stateId");
            var claims = Member("claimSequence");
            var document = new StateDocument
            {
                Version = version.ValueKind == JsonValueKind.Number ? VersionOf(version) : 1,
                StateId = stateId.ValueKind == JsonValueKind.String ? stateId.GetString() : null,
                // The last claim given: without it, a claim made after the highest-numbered record was released would be given again.
                ClaimSequence = claims.ValueKind == JsonValueKind.Number && claims.TryGetInt64(out var last) && last > 0 ? last : 0,
            };
            if (document.Version > StateDocument.CurrentVersion) return document; // the caller refuses it, untouched
            var allocations = Member("allocations");
            if (allocations.ValueKind != JsonValueKind.Object) { problem = "it has no allocations object"; return null; }
            // Each section on its own: a malformed one is dropped (and named) without taking the others with it.
            static void Section(List<string> dropped, string name, Action read)
            {
                try
                {
                    read();
                }
                catch (Exception e) when (JsonShape.IsMismatch(e))
                {
                    dropped.Add($"the {name} are malformed ({e.Message})");
                }
            }
            var counters = Member("counters");
            var activity = Member("activity");
            Section(dropped, "counters", () => { if (counters.ValueKind == JsonValueKind.Object) document.Counters = StateJson.ReadCounters(counters); });
            Section(dropped, "activity samples", () => { if (activity.ValueKind == JsonValueKind.Object) document.Activity = StateJson.ReadActivity(activity); });
            var adopted = Member("adoptedStateIds");
            if (adopted.ValueKind == JsonValueKind.Array)
            {
                foreach (var id in adopted.EnumerateArray())
                {
                    if (id.ValueKind == JsonValueKind.String && !string.IsNullOrEmpty(id.GetString())) document.AdoptedStateIds.Add(id.GetString());
                }
            }
            foreach (var entry in StateJson.Members(allocations))
            {
                AllocationRecord record = null;
                try
                {
                    record = entry.Value.ValueKind == JsonValueKind.Object ? StateJson.ReadRecord(entry.Value) : null;
                }
                catch (Exception e) when (JsonShape.IsMismatch(e))
                {
                    // reported below as malformed
                }
                if (record == null || record.Port < 1 || record.Port > 65535 || !string.Equals(record.AppId, entry.Name, StringComparison.Ordinal))
                {
                    dropped.Add($"the allocation '{entry.Name}' is malformed ({StateJson.Describe(entry.Value)})");
                    continue;
                }
                document.Allocations[entry.Name] = record;
            }
            return document;
        }

        /// <summary>An integer version; one too large for an int is certainly newer than this module, a fraction is no version (1).</summary>
        private static int VersionOf(JsonElement number)
        {
            if (number.TryGetInt64(out var value)) return value > int.MaxValue ? int.MaxValue : value < 0 ? 0 : (int)value;
            var raw = number.GetRawText();
            return raw.Contains('.', StringComparison.Ordinal) || raw.Contains('e', StringComparison.OrdinalIgnoreCase) ? 1 : int.MaxValue;
        }

        /// <summary>
        /// Keeps the original beside the state as .corrupt-&lt;time&gt;: a copy of its bytes (new file, O_EXCL), so the live
        /// file stays in place until the atomic rename replaces it; if the command then fails, nothing was lost.
        /// A directory in the file's place can only be moved aside. A backup of that name already there (a recovery in the
        /// same millisecond: a command that failed after recovering, then the next) is kept, and this one takes -2, -3, ….
        /// </summary>
        private string BackUp(byte[] bytes)
        {
            var stamped = $"{Path}.corrupt-{DateTime.UtcNow.ToString("yyyyMMddTHHmmssfff", CultureInfo.InvariantCulture)}";
            var backup = stamped;
            for (var n = 2; File.Exists(backup) || Directory.Exists(backup); n++) backup = $"{stamped}-{n}";
            try
            {
                if (bytes == null) Directory.Move(Path, backup);
                else SafeFiles.CreateOwned(backup, bytes, "state backup");
                return backup;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || (e is DyadPortsException d && d.ErrorId == ErrorIds.StateWriteFailed))
            {
                throw new DyadPortsException(ErrorIds.StateBackupFailed, FailureCategory.WriteError, Path,
                    $"The DyadPorts state file '{Path}' is corrupt and could not be backed up to '{backup}': {e.Message}. It was left as it is; move it away by hand.", e);
            }
        }

        private void WriteAtomically(string json) =>
            SafeFiles.ReplaceAtomically(Path, new UTF8Encoding(false).GetBytes(json), SafeFiles.OwnerOnly, "DyadPorts state file", ErrorIds.StateWriteFailed);

        /// <summary>sha256 of the machine, the user and the full path: stable for one file, different for every other state.</summary>
        private static string Derive(string path)
        {
            string machine;
            try { machine = File.Exists("/etc/machine-id") ? File.ReadAllText("/etc/machine-id").Trim() : Environment.MachineName; }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { machine = Environment.MachineName; }
            var user = UnixFiles.Supported ? UnixFiles.EffectiveUserId.ToString(CultureInfo.InvariantCulture) : Environment.UserName;
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(machine + "\n" + user + "\n" + path));
            return string.Concat(hash.Take(8).Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
        }
    }
}
