using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Threading;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Ledger;

namespace DyadPorts.Core.State
{
    /// <summary>
    /// The per-app start locks: every AppId hashes onto one of <see cref="Stripes"/> fixed lock files beside the state
    /// (&lt;state&gt;.app-NN.lock), so the folder never fills with one lock file per app ever started, and no lock file
    /// is ever deleted (deleting one races with a waiter that already opened it and would lock a file nobody else
    /// sees). Two apps on one stripe merely start one after the other. A thread that already holds a stripe and asks
    /// for it again (for the same or another app of that stripe) gets it at once instead of waiting on itself.
    /// </summary>
    internal static class AppLocks
    {
        public const int Stripes = 64;

        [ThreadStatic] private static Dictionary<string, int> _held;

        /// <summary>The stripe of an AppId: FNV-1a of its UTF-8 bytes, the same in every process and on every run.</summary>
        public static int StripeOf(string appId)
        {
            var hash = 2166136261u;
            foreach (var b in Encoding.UTF8.GetBytes(appId ?? string.Empty))
            {
                hash ^= b;
                hash *= 16777619u;
            }
            return (int)(hash % Stripes);
        }

        public static string PathOf(string statePath, string appId) =>
            $"{statePath}.app-{StripeOf(appId).ToString("00", CultureInfo.InvariantCulture)}.lock";

        public static IAppLock Acquire(string statePath, string appId, TimeSpan timeout, Func<string, TimeSpan, DyadPortsException> timedOut, CancellationToken cancellationToken)
        {
            var path = PathOf(statePath, appId);
            var held = _held ?? (_held = new Dictionary<string, int>(StringComparer.Ordinal));
            lock (held)
            {
                if (held.TryGetValue(path, out var count))
                {
                    held[path] = count + 1;
                    return new Hold(held, path, null);
                }
            }
            var file = CrossProcessLock.Acquire(path, timeout, cancellationToken, timedOut);
            lock (held) held[path] = 1;
            return new Hold(held, path, file);
        }

        /// <summary>One hold of a stripe by a thread; the thread's last hold releases the lock (from whichever thread disposes it).</summary>
        private sealed class Hold : IAppLock
        {
            private readonly Dictionary<string, int> _held;
            private readonly string _path;
            private IDisposable _file;
            private int _disposed;

            public Hold(Dictionary<string, int> held, string path, IDisposable file)
            {
                _held = held;
                _path = path;
                _file = file;
            }

            /// <summary>Never: the file lock is held while this process lives.</summary>
            public string Lost => null;

            public void Dispose()
            {
                if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
                lock (_held)
                {
                    if (_held.TryGetValue(_path, out var count))
                    {
                        if (count > 1) _held[_path] = count - 1;
                        else _held.Remove(_path);
                    }
                }
                Interlocked.Exchange(ref _file, null)?.Dispose();
            }
        }
    }
}
