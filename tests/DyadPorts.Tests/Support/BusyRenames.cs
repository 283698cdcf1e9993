using System;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet.Models;

namespace DyadPorts.Tests.Support
{
    /// <summary>
    /// Renames one container every 200 ms, between two names, on a task of its own until disposed: an engine's event
    /// stream that never goes quiet, as a container restarting in a loop on a shared host keeps it. A failed rename ends it.
    /// </summary>
    public sealed class BusyRenames : IDisposable
    {
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly Task _renames;
        private int _count;

        public BusyRenames(TestEngine engine, string id, string name)
        {
            ArgumentNullException.ThrowIfNull(engine);
            _renames = Task.Run(() =>
            {
                for (var i = 0; !_stop.IsCancellationRequested; i++)
                {
                    engine.Client.Containers.RenameContainerAsync(id, new ContainerRenameParameters { NewName = name + "-" + (i % 2) }, default).GetAwaiter().GetResult();
                    Interlocked.Increment(ref _count);
                    Thread.Sleep(200);
                }
            });
        }

        /// <summary>How many renames the engine has done so far.</summary>
        public int Count => Volatile.Read(ref _count);

        /// <summary>Whether the renames stopped (a failed one ends them) before <see cref="Dispose"/>; then why, in <see cref="Failure"/>.</summary>
        public bool Stopped => _renames.IsCompleted;

        public string Failure => _renames.Exception?.GetBaseException().Message;

        public void Dispose()
        {
            _stop.Cancel();
            try
            {
                _renames.Wait(TimeSpan.FromSeconds(10));
            }
            catch (AggregateException)
            {
                // a failed rename: Stopped and Failure told the test
            }
            _stop.Dispose();
        }
    }
}
