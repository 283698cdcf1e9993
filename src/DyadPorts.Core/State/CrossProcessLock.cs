using System;
using System.Collections.Concurrent;
using System.IO;
using System.Threading;
using DyadPorts.Core.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace DyadPorts.Core.State
{
    /// <summary>
    /// Serialises work on one lock file across threads, runspaces and processes: the state lock, and the
    /// per-app start locks. Between processes it is an flock on a descriptor opened with O_NOFOLLOW, which the
    /// kernel drops when the holder dies, even by kill -9: a dead process never leaves a stuck lock.
    /// A lock file that is a symlink or belongs to another user is refused, never opened or chmod-ed through.
    /// </summary>
    internal sealed class CrossProcessLock : IDisposable
    {
        private static readonly ConcurrentDictionary<string, SemaphoreSlim> InProcess = new ConcurrentDictionary<string, SemaphoreSlim>(StringComparer.Ordinal);
        private readonly SemaphoreSlim _gate;
        private IDisposable _file;

        private CrossProcessLock(SemaphoreSlim gate, IDisposable file)
        {
            _gate = gate;
            _file = file;
        }

        /// <param name="timedOut">Builds the error for a lock not obtained in time; the default is StateLockTimeout.</param>
        public static CrossProcessLock Acquire(string lockPath, TimeSpan timeout, CancellationToken cancellationToken, Func<string, TimeSpan, DyadPortsException> timedOut = null)
        {
            timedOut = timedOut ?? StateTimeout;
            var gate = InProcess.GetOrAdd(lockPath, _ => new SemaphoreSlim(1, 1));
            var deadline = DateTime.UtcNow + timeout;
            if (!gate.Wait(timeout, cancellationToken)) throw timedOut(lockPath, timeout);
            try
            {
                var delay = 1;
                while (true)
                {
                    var file = TryLock(lockPath);
                    if (file != null) return new CrossProcessLock(gate, file);
                    if (DateTime.UtcNow >= deadline) throw timedOut(lockPath, timeout);
                    // Another process holds it: back off briefly, with jitter so waiters do not move in step.
                    cancellationToken.WaitHandle.WaitOne(delay + ThreadLocalRandom.Next(delay + 1));
                    cancellationToken.ThrowIfCancellationRequested();
                    delay = Math.Min(delay * 2, 50);
                }
            }
            catch
            {
                gate.Release();
                throw;
            }
        }

        /// <summary>The locked file, or null when another process holds the lock.</summary>
        private static IDisposable TryLock(string lockPath)
        {
            if (!UnixFiles.Supported)
            {
                try
                {
                    return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
                }
                catch (IOException)
                {
                    return null; // held by another process (a sharing violation)
                }
                catch (UnauthorizedAccessException e)
                {
                    throw new DyadPortsException(ErrorIds.StateWriteFailed, FailureCategory.PermissionDenied, lockPath, $"Could not open the lock file '{lockPath}': {e.Message}", e);
                }
            }
            SafeFileHandle handle = SafeFiles.OpenOwned(lockPath, UnixFiles.ReadWrite | UnixFiles.Create | UnixFiles.NonBlocking, "lock file");
            try
            {
                if (UnixFiles.TryLock(handle)) return handle;
                handle.Dispose();
                return null;
            }
            catch (IOException e)
            {
                handle.Dispose();
                throw new DyadPortsException(ErrorIds.StateWriteFailed, FailureCategory.WriteError, lockPath, $"Could not lock '{lockPath}': {e.Message}", e);
            }
        }

        public void Dispose()
        {
            var file = Interlocked.Exchange(ref _file, null);
            if (file == null) return;
            file.Dispose();
            _gate.Release();
        }

        private static DyadPortsException StateTimeout(string lockPath, TimeSpan timeout) =>
            new DyadPortsException(ErrorIds.StateLockTimeout, FailureCategory.OperationTimeout, lockPath,
                $"Could not lock the DyadPorts state within {timeout.TotalSeconds:0} s: another process holds '{lockPath}'. It is released when that process finishes or dies.");

        private static class ThreadLocalRandom
        {
            [ThreadStatic] private static Random _random;
            public static int Next(int max) => (_random ?? (_random = new Random(Guid.NewGuid().GetHashCode()))).Next(max);
        }
    }
}
