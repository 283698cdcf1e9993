using System;
using System.Collections.Concurrent;
using System.IO;
using System.Threading;
using DyadPorts.Core.Diagnostics;

namespace DyadPorts.Core.State
{
    /// <summary>
    /// Serialises read-modify-write of one state file across threads, runspaces and processes.
    /// Between processes it is an exclusive open (flock on Unix), which the kernel drops when the
    /// holder dies, even by kill -9: a dead process never leaves a stuck lock.
    /// </summary>
    internal sealed class CrossProcessLock : IDisposable
    {
        private static readonly ConcurrentDictionary<string, SemaphoreSlim> InProcess = new ConcurrentDictionary<string, SemaphoreSlim>(StringComparer.Ordinal);
        private readonly SemaphoreSlim _gate;
        private FileStream _file;

        private CrossProcessLock(SemaphoreSlim gate, FileStream file)
        {
            _gate = gate;
            _file = file;
        }

        public static CrossProcessLock Acquire(string lockPath, TimeSpan timeout, CancellationToken cancellationToken)
        {
            var gate = InProcess.GetOrAdd(lockPath, _ => new SemaphoreSlim(1, 1));
            var deadline = DateTime.UtcNow + timeout;
            if (!gate.Wait(timeout, cancellationToken)) throw Timeout(lockPath, timeout);
            try
            {
                var delay = 1;
                while (true)
                {
                    try
                    {
                        var file = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
                        OwnerOnlyPermissions.Apply(lockPath);
                        return new CrossProcessLock(gate, file);
                    }
                    catch (IOException) when (DateTime.UtcNow < deadline)
                    {
                        // Another process holds it: back off briefly, with jitter so waiters do not move in step.
                        cancellationToken.WaitHandle.WaitOne(delay + ThreadLocalRandom.Next(delay + 1));
                        cancellationToken.ThrowIfCancellationRequested();
                        delay = Math.Min(delay * 2, 50);
                    }
                    catch (IOException e)
                    {
                        throw Timeout(lockPath, timeout, e);
                    }
                }
            }
            catch
            {
                gate.Release();
                throw;
            }
        }

        public void Dispose()
        {
            var file = Interlocked.Exchange(ref _file, null);
            if (file == null) return;
            file.Dispose();
            _gate.Release();
        }

        private static DyadPortsException Timeout(string lockPath, TimeSpan timeout, Exception inner = null) =>
            new DyadPortsException(ErrorIds.StateLockTimeout, FailureCategory.OperationTimeout, lockPath,
                $"Could not lock the DyadPorts state within {timeout.TotalSeconds:0} s: another process holds '{lockPath}'. It is released when that process finishes or dies.", inner);

        private static class ThreadLocalRandom
        {
            [ThreadStatic] private static Random _random;
            public static int Next(int max) => (_random ?? (_random = new Random(Guid.NewGuid().GetHashCode()))).Next(max);
        }
    }
}
