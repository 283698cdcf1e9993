using System;
using System.Threading;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Session
{
    /// <summary>
    /// A process's first command pays for compiling what reads and writes the state (<see cref="StateJson"/> and the
    /// generic collections it fills): about 20 ms of one core on a ReadyToRun pwsh since 0.6.0, 80 ms with 0.5.0's
    /// reflection serializer (docs/bench/oneshot-state-json-2026-12-02.txt). Begun by the first command (before PowerShell binds its
    /// parameters), on a thread-pool thread, that work runs on another core while the command resolves and lists its engine;
    /// the command's own read then finds its code compiled, or compiles what is left itself (nothing is shared
    /// but the runtime's compiled code). In memory only: no file, no engine, no lock. Not on a single core, where it would only compete.
    /// </summary>
    public static class ColdStart
    {
        private static int _begun;

        /// <summary>Starts the head start, once per process.</summary>
        public static void Begin()
        {
            if (Environment.ProcessorCount < 2 || Interlocked.Exchange(ref _begun, 1) == 1) return;
            ThreadPool.UnsafeQueueUserWorkItem(_ => Warm(), null);
        }

        private static void Warm()
        {
            try
            {
                StateStore.Warm();
                Journal.Warm();
            }
#pragma warning disable CA1031 // a head start only: whatever failed here, the command does the same work itself and reports it
            catch (Exception)
            {
            }
#pragma warning restore CA1031
        }
    }
}
