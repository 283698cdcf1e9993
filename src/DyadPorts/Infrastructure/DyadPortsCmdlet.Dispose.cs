using System;

namespace DyadPorts.Infrastructure
{
    /// <summary>
    /// PowerShell disposes a cmdlet that implements IDisposable when its pipeline ends; that frees the
    /// CancellationTokenSource behind Ctrl+C. A stop that races the end of the pipeline finds nothing left to cancel.
    /// </summary>
    public abstract partial class DyadPortsCmdlet : IDisposable
    {
        private volatile bool _disposed;

        public void Dispose()
        {
            Dispose(true);
            GC.SuppressFinalize(this);
        }

        protected virtual void Dispose(bool disposing)
        {
            if (_disposed) return;
            _disposed = true;
            if (disposing) _cancellation.Dispose();
        }

        private void CancelUnlessDisposed()
        {
            if (_disposed) return;
            try
            {
                _cancellation.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The pipeline ended between the check and the cancel: nothing is running any more.
            }
        }
    }
}
