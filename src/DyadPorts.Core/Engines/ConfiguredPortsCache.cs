using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Engines
{
    /// <summary>
    /// The configured port bindings (HostConfig.PortBindings) of one endpoint's containers, by container id, in a file of
    /// this machine's local folder (<c>DyadSettings.LocalFolder</c>) that outlives the process: a one-shot process on
    /// docker, which lists no ports for created or exited containers, then inspects only the containers it has never seen,
    /// not every one. Sound because a container's bindings never change after create and ids are never reused.
    /// The file (<see cref="ConfiguredPortsFormat"/>) is read and written under the state's file rules (<see cref="SafeFiles"/>:
    /// owned, never through a link, replaced atomically, 0600). A file that cannot be read, is not ours, or does not parse
    /// is read as empty (a verbose line, never an error) and replaced by the next save; a save that fails is a verbose
    /// line too. No lock: the last writer wins, and an entry lost so costs one inspect later.
    /// </summary>
    public sealed class ConfiguredPortsCache
    {
        private const string What = "engine ports cache";
        private static readonly IReadOnlyDictionary<string, IReadOnlyList<PublishedPort>> Empty = new Dictionary<string, IReadOnlyList<PublishedPort>>();
        private readonly string _folder;
        private string _path;

        public ConfiguredPortsCache(string folder, string endpoint)
        {
            ArgumentNullException.ThrowIfNull(folder);
            ArgumentNullException.ThrowIfNull(endpoint);
            _folder = folder;
            Endpoint = endpoint;
        }

        public string Endpoint { get; }

        /// <summary>Read, never written (a command under -WhatIf creates no file): <see cref="Save"/> then does nothing.</summary>
        public bool ReadOnly { get; init; }

        /// <summary>
        /// Named when first needed: a command that never reads or writes the file (no container it has not seen) never
        /// hashes, and so never loads the platform's cryptography (OpenSSL on Linux) for it.
        /// </summary>
        public string Path => _path ??= System.IO.Path.Combine(_folder, FileName(Endpoint));

        /// <summary>engine-ports-&lt;first 16 hex digits of SHA-256(endpoint)&gt;.txt</summary>
        public static string FileName(string endpoint) =>
            "engine-ports-" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(endpoint ?? string.Empty)), 0, 8).ToLowerInvariant() + ".txt";

        /// <summary>The stored entries; empty when there is no file, or none that can be used (said in a verbose line).</summary>
        public IReadOnlyDictionary<string, IReadOnlyList<PublishedPort>> Load(IOperationLog log)
        {
            try
            {
                if (!Directory.Exists(_folder)) return Empty;
                SafeFiles.EnsureFolder(_folder); // a folder others could swap the file in is not read from
                var bytes = SafeFiles.ReadOwned(Path, What, allowFolder: false, out _);
                if (bytes == null) return Empty;
                var entries = ConfiguredPortsFormat.Parse(new UTF8Encoding(false, true).GetString(bytes), Endpoint, out var problem);
                if (entries != null) return entries;
                log?.Verbose($"The {What} '{Path}' was ignored ({problem}); the next save replaces it.");
            }
            catch (Exception e) when (e is DyadPortsException || e is ArgumentException)
            {
                log?.Verbose($"The {What} '{Path}' was ignored: {e.Message}");
            }
            return Empty;
        }

        /// <summary>Replaces the file with <paramref name="entries"/>; false (said in a verbose line) when it could not be written, or is <see cref="ReadOnly"/>.</summary>
        public bool Save(IEnumerable<KeyValuePair<string, IReadOnlyList<PublishedPort>>> entries, IOperationLog log)
        {
            if (ReadOnly) return false;
            var bytes = new UTF8Encoding(false).GetBytes(ConfiguredPortsFormat.Format(Endpoint, entries));
            try
            {
                SafeFiles.EnsureFolder(_folder);
                SafeFiles.ReplaceAtomically(Path, bytes, SafeFiles.OwnerOnly, What, ErrorIds.StateWriteFailed);
                return true;
            }
            catch (DyadPortsException e)
            {
                log?.Verbose($"The {What} '{Path}' was not saved: {e.Message}");
                return false;
            }
        }

        /// <summary>
        /// What to store after a list: the <paramref name="stored"/> entries and those <paramref name="resolved"/> in memory,
        /// of the <paramref name="listed"/> containers only (a memory entry wins: it is the same bindings, or newer).
        /// <paramref name="changed"/> says whether that differs from <paramref name="stored"/> (an entry added or pruned),
        /// that is, whether to save. Pure.
        /// </summary>
        public static Dictionary<string, IReadOnlyList<PublishedPort>> Kept(IReadOnlyDictionary<string, IReadOnlyList<PublishedPort>> stored,
            IEnumerable<KeyValuePair<string, IReadOnlyList<PublishedPort>>> resolved, ISet<string> listed, out bool changed)
        {
            ArgumentNullException.ThrowIfNull(stored);
            ArgumentNullException.ThrowIfNull(resolved);
            ArgumentNullException.ThrowIfNull(listed);
            var kept = new Dictionary<string, IReadOnlyList<PublishedPort>>(StringComparer.Ordinal);
            foreach (var entry in stored.Where(e => listed.Contains(e.Key))) kept[entry.Key] = entry.Value;
            foreach (var entry in resolved.Where(e => listed.Contains(e.Key))) kept[entry.Key] = entry.Value;
            changed = kept.Count != stored.Count || kept.Keys.Any(id => !stored.ContainsKey(id));
            return kept;
        }
    }
}
