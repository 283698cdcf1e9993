using System;
using System.Diagnostics;
using System.Globalization;
using System.Threading;
using DyadPorts.Core.Diagnostics;

namespace DyadPorts.Core.Previews
{
    /// <summary>Polls the preview's URL until it answers HTTP, with progress; fails with its last log lines if it dies or times out first.</summary>
    internal static class ReadinessWaiter
    {
        private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

        /// <summary>Returns when the preview answers; throws PreviewExitedEarly or PreviewTimeout otherwise. Cleans up nothing itself.</summary>
        /// <param name="host">Where the preview's port is published: null (this host) or a remote engine's host name.</param>
        public static void Wait(PreviewRequest request, string host, int port, Func<bool> stillRunning, Func<string> logs, IOperationLog log, CancellationToken ct)
        {
            string Url(int p) => ReadinessWaiter.Url(host, p);
            var activity = $"Starting preview of app {request.AppId}";
            var watch = Stopwatch.StartNew();
            var nextLivenessCheck = TimeSpan.Zero;
            try
            {
                while (true)
                {
                    ct.ThrowIfCancellationRequested();
                    if (ReadinessProbe.Answers(host, port, TimeSpan.FromMilliseconds(500)))
                    {
                        log.Verbose($"App {request.AppId}: {Url(port)} answered after {watch.Elapsed.TotalSeconds:0.0} s.");
                        return;
                    }
                    if (watch.Elapsed >= nextLivenessCheck)
                    {
                        nextLivenessCheck = watch.Elapsed + TimeSpan.FromSeconds(1);
                        if (!stillRunning())
                        {
                            throw new DyadPortsException(ErrorIds.PreviewExitedEarly, FailureCategory.InvalidOperation, request.AppId,
                                $"The preview of app {request.AppId} exited before {Url(port)} answered. It was removed, and the app's allocation is as it was before this start. Last log lines:{Environment.NewLine}{logs()}");
                        }
                    }
                    if (watch.Elapsed >= request.Timeout)
                    {
                        throw new DyadPortsException(ErrorIds.PreviewTimeout, FailureCategory.OperationTimeout, request.AppId,
                            $"The preview of app {request.AppId} did not answer on {Url(port)} within {request.Timeout.TotalSeconds:0} s; it was removed, and the app's allocation is as it was before this start. " +
                            $"Raise -TimeoutSec for slow installs, or use -NoWait. Last log lines:{Environment.NewLine}{logs()}");
                    }
                    var percent = (int)(100 * watch.Elapsed.TotalSeconds / request.Timeout.TotalSeconds);
                    log.Progress(activity, $"Waiting for {Url(port)} ({watch.Elapsed.TotalSeconds:0} s of {request.Timeout.TotalSeconds:0} s)", percent);
                    ct.WaitHandle.WaitOne(PollInterval);
                }
            }
            finally
            {
                log.Progress(activity, null, 100);
            }
        }

        public static string Url(int port) => Url(null, port);

        /// <summary>http://localhost:PORT for this host, http://HOST:PORT for a remote engine's.</summary>
        public static string Url(string host, int port) => "http://" + (host ?? Engines.EngineHost.Local) + ":" + port.ToString(CultureInfo.InvariantCulture);
    }
}
