using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;

namespace DyadPorts.Core.Engines
{
    /// <summary>
    /// The session's engine views, at most one per client (endpoint and TLS files). A view starts on the second engine
    /// read of its endpoint, so a process that reads once never pays for a stream; until it is live, readers list.
    /// </summary>
    public sealed class EngineViews : IDisposable
    {
        private readonly Func<ContainerEngine, EngineKind, ContainerEngine> _clientFor;
        private readonly TimeProvider _time;
        private readonly TimeSpan? _retireAfter;
        private readonly TimeSpan? _retireNeverLiveAfter;
        private readonly int? _removalsKept;
        private readonly bool _lent;
        private readonly ConcurrentDictionary<ContainerEngine, Entry> _entries = new ConcurrentDictionary<ContainerEngine, Entry>();
        private volatile bool _disposed;

        /// <param name="clientFor">
        /// Makes a view's own client for a session client and its kind; null for a new <see cref="ContainerEngine"/> on the
        /// same endpoint and TLS files.
        /// </param>
        /// <param name="time">This machine's clock, for the views (<see cref="EngineView"/>); null for the system's.</param>
        /// <param name="retireAfter">How long a view may go unread before it ends itself; null for <see cref="ViewTiming.RetireAfter"/>.</param>
        /// <param name="removalsKept">How many more numbers of removed containers a view keeps before it lets go of those it can; null for the default, 1,024 (<c>ViewMap.RemovalsKept</c>).</param>
        /// <param name="lent">The views are lent to other processes (the agent): each is <see cref="EngineView.AlwaysInUse"/>.</param>
        /// <param name="retireNeverLiveAfter">How long a view that never answered may go unread before it ends itself, when shorter than <paramref name="retireAfter"/>; null for the same.</param>
        public EngineViews(Func<ContainerEngine, EngineKind, ContainerEngine> clientFor = null, TimeProvider time = null, TimeSpan? retireAfter = null, int? removalsKept = null, bool lent = false,
            TimeSpan? retireNeverLiveAfter = null)
        {
            _retireNeverLiveAfter = retireNeverLiveAfter;
            _lent = lent;
            _removalsKept = removalsKept;
            _clientFor = clientFor ?? ((engine, kind) => new ContainerEngine(engine.Endpoint, kind, engine.Tls));
            _time = time ?? TimeProvider.System;
            _retireAfter = retireAfter;
        }

        /// <summary>
        /// The live view's snapshot of <paramref name="engine"/>'s endpoint, or null (the caller lists). Counts the read:
        /// the second one starts the view in the background. A view that retired for being unread
        /// (<see cref="ViewTiming.RetireAfter"/>) is let go, and the reads count again from this one.
        /// </summary>
        public EngineSnapshot Read(ContainerEngine engine, EngineKind kind, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(engine);
            var entry = _entries.GetOrAdd(engine, _ => new Entry());
            var view = entry.View;
            if (view != null)
            {
                if (!view.IsRetired) return view.TryRead(cancellationToken);
                Retired(entry, engine, view);
            }
            if (Interlocked.Increment(ref entry.Reads) >= 2) Start(entry, engine, kind);
            return null;
        }

        /// <summary>
        /// Starts the view of <paramref name="engine"/>'s endpoint now, without waiting for its second read (the agent,
        /// which exists to keep views live); a retired one is let go and a new one started. No-op while one follows.
        /// </summary>
        public void Follow(ContainerEngine engine, EngineKind kind)
        {
            ArgumentNullException.ThrowIfNull(engine);
            var entry = _entries.GetOrAdd(engine, _ => new Entry());
            if (entry.View is EngineView view)
            {
                if (!view.IsRetired) return;
                Retired(entry, engine, view);
            }
            Start(entry, engine, kind);
        }

        /// <summary>Whether a view of <paramref name="engine"/>'s endpoint is started and has not retired.</summary>
        public bool Follows(ContainerEngine engine) =>
            engine != null && _entries.TryGetValue(engine, out var entry) && entry.View is EngineView view && !view.IsRetired;

        /// <summary>
        /// Lets go of a client for good: its entry goes, and a view it still has ends. For a long-lived process (the agent)
        /// that met many endpoints, so that the gone ones cost nothing; the client is the caller's to dispose.
        /// </summary>
        public void Drop(ContainerEngine engine)
        {
            if (engine != null && _entries.TryRemove(engine, out var entry)) End(engine, entry);
        }

        /// <summary>Ends the view an entry holds, if any: the entry holds none after, and the client no longer touches it.</summary>
        private static void End(ContainerEngine engine, Entry entry)
        {
            EngineView view;
            lock (entry)
            {
                view = entry.View;
                entry.View = null;
            }
            if (view == null) return;
            engine.ContainerChanged -= view.Touched;
            view.Dispose();
        }

        /// <summary>The views started so far.</summary>
        public IReadOnlyList<EngineView> Started => _entries.Values.Select(e => e.View).Where(v => v != null).ToList();

        /// <summary>The view of an endpoint, or null when none was started.</summary>
        public EngineView For(string endpoint) => Started.FirstOrDefault(v => v.Endpoint == endpoint);

        /// <summary>Whether an endpoint's view answers now (for the bench: otherwise allocations list).</summary>
        public bool IsLive(string endpoint) => For(endpoint)?.IsLive == true;

        /// <summary>An endpoint stopped answering: its views end their streams, and list again when they reconnect.</summary>
        public void Forget(string endpoint)
        {
            foreach (var view in Started.Where(v => v.Endpoint == endpoint)) view.Reconnect();
        }

        private void Start(Entry entry, ContainerEngine engine, EngineKind kind)
        {
            lock (entry)
            {
                if (entry.View != null || _disposed) return;
                var view = new EngineView(_clientFor(engine, kind), _time, _retireAfter, retired => Retired(entry, engine, retired), _removalsKept, _retireNeverLiveAfter) { AlwaysInUse = _lent };
                engine.ContainerChanged += view.Touched;
                view.Start();
                entry.View = view;
            }
            if (_disposed) Dispose(); // raced with Dispose: end what was just started
        }

        /// <summary>
        /// Lets go of a view that ended itself (told by the view, or found by a read first): the endpoint has no view, and
        /// its reads count from none. Once per view; a newer view of the endpoint is left alone.
        /// </summary>
        private static void Retired(Entry entry, ContainerEngine engine, EngineView view)
        {
            lock (entry)
            {
                if (entry.View != view) return;
                entry.View = null;
                entry.Reads = 0;
            }
            engine.ContainerChanged -= view.Touched;
        }

        public void Dispose()
        {
            _disposed = true;
            foreach (var pair in _entries) End(pair.Key, pair.Value);
        }

        private sealed class Entry
        {
            public int Reads;
            public volatile EngineView View;
        }
    }
}
