using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using DyadPorts.Core.Engines;
using Xunit;

namespace DyadPorts.Tests.Support
{
    /// <summary>
    /// A live engine view of a test engine, reached through a <see cref="HoldingEngineProxy"/> that frames its answers
    /// (so that <see cref="EngineEndedStream"/> counts, and answers can be held) and is set up by <c>before</c> first, on
    /// this machine's clock or on <c>time</c>.
    /// </summary>
    public sealed class ProxiedView : IDisposable
    {
        private readonly ContainerEngine _client;
        private readonly EngineViews _views;

        /// <param name="retireAfter">How long the view may go unread before it ends itself; null for the default.</param>
        /// <param name="removalsKept">How many numbers of removed containers the view keeps before it lets go; null for the default.</param>
        public ProxiedView(TestEngine engine, Action<HoldingEngineProxy> before = null, TimeProvider time = null, TimeSpan? retireAfter = null, int? removalsKept = null)
        {
            ArgumentNullException.ThrowIfNull(engine);
            _views = new EngineViews(time: time, retireAfter: retireAfter, removalsKept: removalsKept);
            Proxy = new HoldingEngineProxy(engine.Endpoint);
            _client = new ContainerEngine(Proxy.Endpoint, engine.Kind);
            try
            {
                Proxy.FrameAnswers(); // before the client's first call opens a connection
                before?.Invoke(Proxy);
                ViewSettler.MakeLive(_views, _client, engine.Kind);
                View = _views.For(Proxy.Endpoint);
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public HoldingEngineProxy Proxy { get; }

        public EngineView View { get; }

        /// <summary>The views the view belongs to, and the session client they are read for.</summary>
        public EngineViews Views => _views;

        public ContainerEngine Client => _client;

        /// <summary>
        /// Whether the engine itself ended one of the view's event streams: podman 4.3 truncates its events file to its newer
        /// half at its size limit (1,000,000 bytes by default) and ends every stream then, and the view rightly lists again. The
        /// proxy counts it on every connection of the view's: their answers are framed.
        /// </summary>
        public bool EngineEndedStream => Proxy.EventStreamsEndedByEngine > 0;

        /// <summary>
        /// For a test whose point is that the view did not list: makes try 1, and when it returns false (the engine ended
        /// the view's event stream during it, see <see cref="EngineEndedStream"/>, so its list proves nothing) try 2, which
        /// must prove it. Any user of the engine fills podman's events file, a test's own events too (full CI runs).
        /// </summary>
        public static void TriedAgainIfTheEngineEndedTheStream(Func<int, bool> attempt)
        {
            ArgumentNullException.ThrowIfNull(attempt);
            if (!attempt(1)) Assert.True(attempt(2), "the engine ended the view's event stream in both tries");
        }

        /// <inheritdoc cref="TriedAgainIfTheEngineEndedTheStream(Func{int, bool})"/>
        public static async Task TriedAgainIfTheEngineEndedTheStream(Func<int, Task<bool>> attempt)
        {
            ArgumentNullException.ThrowIfNull(attempt);
            if (!await attempt(1).ConfigureAwait(false)) Assert.True(await attempt(2).ConfigureAwait(false), "the engine ended the view's event stream in both tries");
        }

        /// <summary>Reads of <see cref="WaitFor"/> the view did not answer (its stream not live): for a failure's message.</summary>
        public int NotLiveReads { get; private set; }

        /// <summary>How long until the view answers a snapshot that satisfies <paramref name="done"/>; past <paramref name="bound"/> it stops waiting.</summary>
        public TimeSpan WaitFor(TimeSpan bound, Func<EngineSnapshot, bool> done)
        {
            ArgumentNullException.ThrowIfNull(done);
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed <= bound + TimeSpan.FromSeconds(1))
            {
                var read = View.TryRead(default);
                if (read == null) NotLiveReads++;
                if (read != null && done(read)) return clock.Elapsed;
                Thread.Sleep(20);
            }
            return clock.Elapsed;
        }

        public void Dispose()
        {
            _views.Dispose();
            _client.Dispose();
            Proxy.Dispose();
        }
    }
}
