using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;

namespace DyadPorts.Core.Engines
{
    /// <summary>Whether resolving may start processes (`podman machine inspect`). Tab completion may not.</summary>
    public enum ResolutionMode
    {
        Full,
        NoProcesses,
    }

    /// <summary>
    /// <see cref="EngineResolver"/> with what it needs from the machine (pings, `podman machine inspect`), bounded by the
    /// caller's token, and its answers kept per <see cref="EngineFingerprint"/>: while nothing that feeds the rules
    /// changes, the same question is answered without a ping or a process. A completed answer is kept; a cancelled or
    /// failed resolution is not. <see cref="Forget"/> drops answers naming an endpoint that stopped answering.
    /// </summary>
    public sealed class EngineResolution
    {
        private const int MaxEntries = 64;
        private readonly Func<string, string> _environment;
        private readonly Func<string, CancellationToken, bool> _answers;
        private readonly Func<string, CancellationToken, string> _inspectMachine;
        private readonly Func<string, string> _stamp;
        private readonly SystemSockets _system;
        private readonly ConcurrentDictionary<string, EngineTarget> _cache = new ConcurrentDictionary<string, EngineTarget>(StringComparer.Ordinal);

        /// <param name="answers">Whether an endpoint's engine answers a ping; honours the token.</param>
        /// <param name="inspectMachine">A podman machine's API socket by machine name (`podman machine inspect`); null when unknown.</param>
        /// <param name="stamp">A file's or folder's existence and change time (<see cref="EngineFingerprint.FileStamp"/>).</param>
        public EngineResolution(Func<string, string> environment, Func<string, CancellationToken, bool> answers,
            Func<string, CancellationToken, string> inspectMachine, Func<string, string> stamp, SystemSockets system = null)
        {
            _environment = environment;
            _answers = answers;
            _inspectMachine = inspectMachine;
            _stamp = stamp;
            _system = system ?? SystemSockets.Default;
        }

        /// <summary>Resolutions answered from the cache so far.</summary>
        public long Hits => Interlocked.Read(ref _hits);
        private long _hits;

        public EngineTarget Resolve(EngineKind requested, string endpoint, ResolutionMode mode, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var fingerprint = EngineFingerprint.Of(_environment, _stamp, _system);
            var key = Key(requested, endpoint, mode, fingerprint);
            // A full resolution's answer serves completion too; completion's own (which skipped processes) serves only completion.
            if (_cache.TryGetValue(Key(requested, endpoint, ResolutionMode.Full, fingerprint), out var known) || _cache.TryGetValue(key, out known))
            {
                Interlocked.Increment(ref _hits);
                return known;
            }
            Func<string, string> machineSocket = machine =>
                (mode == ResolutionMode.Full ? _inspectMachine(machine, cancellationToken) : null) ??
                PodmanMachine.Candidates(machine, _environment).FirstOrDefault(p => _stamp(p) != EngineFingerprint.Missing);
            var target = EngineResolver.Resolve(requested, endpoint, _environment, e => _answers(e, cancellationToken), machineSocket, _system);
            cancellationToken.ThrowIfCancellationRequested(); // a ping cut short by the deadline may have said "no": not an answer to keep
            if (_cache.Count >= MaxEntries) _cache.Clear();
            _cache[key] = target;
            return target;
        }

        /// <summary>Drops every kept answer that names this endpoint, so the next resolution probes afresh.</summary>
        public void Forget(string endpoint)
        {
            if (endpoint == null) return;
            foreach (var entry in _cache.Where(e => e.Value.Endpoint == endpoint).ToList()) _cache.TryRemove(entry.Key, out _);
        }

        private static string Key(EngineKind requested, string endpoint, ResolutionMode mode, string fingerprint) =>
            $"{requested}|{endpoint}|{mode}|{fingerprint}";
    }

    /// <summary>
    /// Everything the resolution rules read, in one string: two equal fingerprints give the same resolution.
    /// The variables: DOCKER_HOST, CONTAINER_HOST, CONTAINERIZATION_ENGINE/ENABLED, DOCKER_CONTEXT, DOCKER_CONFIG,
    /// DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, CONTAINER_CONNECTION, CONTAINERS_CONF, PODMAN_CONNECTIONS_CONF, HOME,
    /// USERPROFILE, XDG_CONFIG_HOME, XDG_RUNTIME_DIR, XDG_DATA_HOME, TMPDIR and PATH (where podman is found).
    /// The files, by existence and change time: docker's config.json and contexts folder, podman's connection files
    /// and containers.conf files, and every default socket (an engine that starts makes its socket anew, so a
    /// fallback to the process engine is not kept past it). Not covered: a context's meta.json edited in place, and a
    /// podman machine restarted on the same socket; both keep their endpoint, and an engine that stops answering is
    /// forgotten by <see cref="EngineResolution.Forget"/>.
    /// </summary>
    public static class EngineFingerprint
    {
        public const string Missing = "-";

        public static readonly IReadOnlyList<string> Variables = new[]
        {
            "DOCKER_HOST", "CONTAINER_HOST", "CONTAINERIZATION_ENGINE", "CONTAINERIZATION_ENABLED", "DOCKER_CONTEXT", "DOCKER_CONFIG",
            "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "CONTAINER_CONNECTION", "CONTAINERS_CONF", "PODMAN_CONNECTIONS_CONF",
            "HOME", "USERPROFILE", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR", "XDG_DATA_HOME", "TMPDIR", "PATH",
        };

        /// <summary>The files and folders whose existence and change time count.</summary>
        public static IEnumerable<string> Files(Func<string, string> environment, SystemSockets system)
        {
            var docker = DockerCliConfig.Directory(environment);
            if (docker != null)
            {
                yield return Path.Combine(docker, "config.json");
                yield return Path.Combine(docker, "contexts", "meta");
            }
            foreach (var path in PodmanCliConfig.JsonFiles(environment)) yield return path;
            foreach (var path in PodmanCliConfig.ConfFiles(environment)) yield return path;
            foreach (var kind in new[] { EngineKind.Podman, EngineKind.Docker })
            {
                foreach (var socket in EngineResolver.DefaultSockets(kind, environment, system))
                {
                    if (socket.StartsWith("unix://", StringComparison.Ordinal)) yield return socket.Substring("unix://".Length);
                }
            }
        }

        public static string Of(Func<string, string> environment, Func<string, string> stamp, SystemSockets system)
        {
            var text = new StringBuilder();
            foreach (var name in Variables) text.Append(name).Append('=').Append(environment(name)).Append('\n');
            foreach (var file in Files(environment, system)) text.Append(file).Append(':').Append(stamp(file)).Append('\n');
            return text.ToString();
        }

        /// <summary>"-" for a path that is not there, else its last write time (UTC ticks) and, for files, its length.</summary>
        public static string FileStamp(string path)
        {
            try
            {
                var file = new FileInfo(path);
                if (file.Exists) return file.LastWriteTimeUtc.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture) + "/" + file.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
                var folder = new DirectoryInfo(path);
                return folder.Exists ? folder.LastWriteTimeUtc.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture) : Missing;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is ArgumentException || e is NotSupportedException)
            {
                return Missing;
            }
        }
    }
}
