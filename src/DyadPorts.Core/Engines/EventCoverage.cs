using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using Docker.DotNet.Models;

namespace DyadPorts.Core.Engines
{
    /// <summary>
    /// One engine view connection's account of its events: when its stream last said something, which events it knows
    /// (heard on the stream, or returned by a catch-up) and when each arrived, how far its catch-ups have covered, and how
    /// long a catch-up may take to read.
    /// <para>
    /// Each catch-up (once per quiet spell, again every <see cref="ViewTiming.CatchUpRepeat"/> while the spell lasts, and
    /// every <see cref="ViewTiming.BusyCatchUpRepeat"/> while it never comes) asks from a second before what the last ones
    /// returned (the first from the connection's own since=; the engine's seconds are whole), so together they cover the
    /// whole connection however long ago an event went missing. What the stream or an earlier catch-up delivered is
    /// skipped, so a busy spell between two catch-ups costs no second inspect.
    /// </para>
    /// <para>
    /// A catch-up proves only what it returned. Podman 4.3 reads its whole events file from the start for every catch-up
    /// and stops reading at until=, wherever it is: with a 0.75 MB file, until= 30 ms ahead returned 555-795 of 1,993
    /// events, and 100 ms ahead all of them idle but not with the cores kept busy (docs/bench/podman-catchup-cut-2026-12-01.txt).
    /// A catch-up cut short misses the newest events, the ones it is for. So the next catch-up asks from the newest event
    /// this one returned, not from its until=; and a catch-up that did not return an event the connection knew, inside
    /// what it asked for, was cut (<see cref="WasCut"/>): it counts as none, so the next heartbeat asks again
    /// (<see cref="Finish"/>). On podman the window follows how long the reads take (<see cref="NextWindow"/>, up to
    /// <see cref="WindowMost"/>); a cut at the longest, or on dockerd, makes the view list again.
    /// </para>
    /// </summary>
    internal sealed class EventCoverage
    {
        /// <summary>Known events kept to skip and to judge catch-ups by: those older than this before the covered end are let go.</summary>
        private static readonly TimeSpan KnownKept = TimeSpan.FromSeconds(5);

        /// <summary>A stream that never goes quiet keeps at most this many known events (the oldest go first); a catch-up then applies the rest again, harmlessly.</summary>
        private const int KnownMost = 4096;

        /// <summary>The longest a catch-up may read: a cut one past this is not trusted, and the view lists again.</summary>
        public static readonly TimeSpan WindowMost = TimeSpan.FromSeconds(2);

        private readonly object _lock = new object();
        private readonly Dictionary<(string Id, string Action, long TimeNano), long> _known = new Dictionary<(string, string, long), long>();
        private readonly Queue<(string Id, string Action, long TimeNano)> _knownOrder = new Queue<(string, string, long)>();
        private long _arrived = Stopwatch.GetTimestamp();
        private long _lastCatchUp = Stopwatch.GetTimestamp(); // the connection's list is where it begins
        private int _caughtUp;
        private int _owed;
        private DateTimeOffset _covered;
        private TimeSpan _window;

        /// <param name="since">The connection's since=: where its first catch-up asks from.</param>
        /// <param name="window">How far ahead of now a catch-up's until= lies at first (<see cref="ViewTiming.CatchUpWindow"/>).</param>
        public EventCoverage(DateTimeOffset since, TimeSpan window)
        {
            Since = since;
            _covered = since;
            _window = window;
        }

        /// <summary>The connection's since=.</summary>
        public DateTimeOffset Since { get; }

        /// <summary>How far ahead of now the next catch-up's until= lies.</summary>
        public TimeSpan Window
        {
            get
            {
                lock (_lock) return _window;
            }
        }

        private static (string, string, long) Key(Message m) =>
            (string.IsNullOrEmpty(m.Actor?.ID) ? m.ID : m.Actor.ID, string.IsNullOrEmpty(m.Action) ? m.Status : m.Action, m.TimeNano);

        /// <summary>The stream delivered <paramref name="message"/> (or said anything): the quiet spell, if any, is over.</summary>
        public void Heard(Message message)
        {
            if (message != null) Know(message);
            Interlocked.Exchange(ref _arrived, Stopwatch.GetTimestamp());
            Interlocked.Exchange(ref _caughtUp, 0);
        }

        /// <summary>True when the connection knew <paramref name="message"/> already; otherwise it knows it from now on.</summary>
        private bool Know(Message message)
        {
            lock (_lock)
            {
                var key = Key(message);
                if (_known.ContainsKey(key)) return true;
                _known[key] = Stopwatch.GetTimestamp();
                _knownOrder.Enqueue(key);
                while (_knownOrder.Count > KnownMost) _known.Remove(_knownOrder.Dequeue());
                return false;
            }
        }

        /// <summary>
        /// True, with the since= of the catch-up, when one is due: owed by a catch-up cut short, or
        /// <see cref="ViewTiming.CatchUpDue"/>.
        /// </summary>
        public bool DueForCatchUp(TimeSpan repeat, out DateTimeOffset since)
        {
            since = default;
            var sinceHeard = Stopwatch.GetElapsedTime(Interlocked.Read(ref _arrived));
            var owed = Interlocked.Exchange(ref _owed, 0) == 1;
            if (!owed && !ViewTiming.CatchUpDue(sinceHeard, Volatile.Read(ref _caughtUp) == 1, Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastCatchUp)), repeat)) return false;
            if (sinceHeard >= ViewTiming.QuietBeforeCatchUp) Interlocked.Exchange(ref _caughtUp, 1); // this quiet spell's catch-up
            lock (_lock) since = _covered - TimeSpan.FromSeconds(1);
            return true;
        }

        /// <summary>A catch-up about to be sent: from <paramref name="since"/> to the window's end past <paramref name="now"/> (the engine's clock).</summary>
        public CatchUp Ask(DateTimeOffset since, DateTimeOffset now)
        {
            var window = Window;
            return new CatchUp(since, now + window, window, Stopwatch.GetTimestamp());
        }

        /// <summary>
        /// The catch-up returned <paramref name="message"/>: true when the connection did not know it (apply it), false
        /// when the stream or an earlier catch-up delivered it already (skip it).
        /// </summary>
        public bool Returned(CatchUp asked, Message message)
        {
            ArgumentNullException.ThrowIfNull(asked);
            if (message == null) return false;
            asked.Count++;
            asked.ReturnedKeys.Add(Key(message));
            asked.LastArrival = Stopwatch.GetElapsedTime(asked.Sent);
            if (message.TimeNano > asked.NewestNano) asked.NewestNano = message.TimeNano;
            return !Know(message);
        }

        /// <summary>
        /// The catch-up ended. It covers up to the newest event it returned, at most its until= (none: nothing more than
        /// before). <see cref="CatchUpVerdict.Cut"/> when it was cut (<see cref="WasCut"/>): the next heartbeat asks
        /// again, as if it had not been; <see cref="CatchUpVerdict.Untrusted"/> when it was cut on an engine that does not
        /// read a file (<paramref name="readsFile"/> false: dockerd answers from memory, so a cut there means its buffer
        /// lost events) or at <see cref="WindowMost"/>. On an engine that reads a file, the window is
        /// <see cref="NextWindow"/> from then on.
        /// </summary>
        public CatchUpVerdict Finish(CatchUp asked, bool readsFile)
        {
            ArgumentNullException.ThrowIfNull(asked);
            CatchUpVerdict verdict;
            lock (_lock)
            {
                var cut = WasCut(_known.Select(k => (k.Key.TimeNano, k.Value, asked.ReturnedKeys.Contains(k.Key))), asked.SinceNano, asked.UntilNano, asked.Sent);
                if (asked.NewestNano > 0)
                {
                    // An event stamped past until= (a clock that jumped) moves nothing past what was asked for.
                    var newest = DateTimeOffset.FromUnixTimeMilliseconds(Math.Min(asked.NewestNano, asked.UntilNano) / 1_000_000);
                    if (newest > _covered) _covered = newest;
                }
                var keepFrom = (_covered - KnownKept).ToUnixTimeMilliseconds() * 1_000_000;
                while (_knownOrder.Count > 0 && _knownOrder.Peek().TimeNano < keepFrom) _known.Remove(_knownOrder.Dequeue());
                if (cut && (!readsFile || asked.Window >= WindowMost))
                {
                    verdict = CatchUpVerdict.Untrusted;
                }
                else
                {
                    if (readsFile) _window = NextWindow(asked.Window, cut, asked.Count, asked.LastArrival);
                    verdict = cut ? CatchUpVerdict.Cut : CatchUpVerdict.Whole;
                }
            }
            if (verdict == CatchUpVerdict.Cut)
            {
                Interlocked.Exchange(ref _owed, 1); // and the last catch-up stays the one before it
            }
            else if (verdict == CatchUpVerdict.Whole)
            {
                Interlocked.Exchange(ref _lastCatchUp, Stopwatch.GetTimestamp());
            }
            return verdict;
        }

        /// <summary>
        /// How long the window grows, at most, on catch-ups that returned nothing and so cannot be judged: a connection
        /// that has heard no container event then pings every 2 s or so rather than every 3 s.
        /// </summary>
        public static readonly TimeSpan WindowUnjudgedMost = TimeSpan.FromSeconds(1);

        /// <summary>
        /// The window of the next catch-up on an engine that reads a file, after one of <paramref name="window"/>: twice as
        /// long after a cut; after one that returned nothing (nothing to tell a cut from a quiet spell by) twice as long
        /// up to <see cref="WindowUnjudgedMost"/>, and no shorter; otherwise twice as long as the last event it returned
        /// took to arrive (about how long the engine read), so that a window widened for a slow read narrows again.
        /// Never under <see cref="ViewTiming.CatchUpWindow"/> nor over <see cref="WindowMost"/>.
        /// </summary>
        internal static TimeSpan NextWindow(TimeSpan window, bool cut, int returned, TimeSpan lastArrival)
        {
            TimeSpan next;
            if (cut) next = window * 2;
            else if (returned == 0) next = Shorter(window * 2, Longer(window, WindowUnjudgedMost));
            else next = lastArrival * 2;
            return Longer(ViewTiming.CatchUpWindow, Shorter(next, WindowMost));
        }

        private static TimeSpan Shorter(TimeSpan a, TimeSpan b) => a < b ? a : b;

        private static TimeSpan Longer(TimeSpan a, TimeSpan b) => a > b ? a : b;

        /// <summary>
        /// Whether the engine answers an events query from a file it reads from the start up to until= (podman 4.3), which
        /// may cut a catch-up short and keeps no count of events; else from memory (dockerd: its last 256 events). An
        /// engine not known to be podman counts as dockerd, the stricter of the two.
        /// </summary>
        internal static bool ReadsFile(EngineKind kind) => kind == EngineKind.Podman;

        /// <summary>
        /// Whether a catch-up was cut short: among the events the connection knew before it was sent (their arrival, a
        /// <see cref="Stopwatch"/> timestamp, before <paramref name="sent"/>: in the engine's file or buffer by then), one
        /// inside what it asked for (after the first second of its whole-second since=, before its until=) that it did not
        /// return.
        /// </summary>
        internal static bool WasCut(IEnumerable<(long TimeNano, long Arrived, bool Returned)> known, long sinceNano, long untilNano, long sent) =>
            known.Any(k => !k.Returned && k.Arrived < sent && k.TimeNano >= sinceNano + 1_000_000_000L && k.TimeNano < untilNano);

        /// <summary>One catch-up: what it asked for, when it was sent, and what it returned.</summary>
        internal sealed class CatchUp
        {
            public CatchUp(DateTimeOffset since, DateTimeOffset until, TimeSpan window, long sent)
            {
                Since = since;
                Until = until;
                Window = window;
                Sent = sent;
            }

            /// <summary>Its since= (sent in whole seconds).</summary>
            public DateTimeOffset Since { get; }

            /// <summary>Its until=.</summary>
            public DateTimeOffset Until { get; }

            /// <summary>How far ahead of its sending its until= lay: how long it may read.</summary>
            public TimeSpan Window { get; }

            /// <summary>When it was sent (a <see cref="Stopwatch"/> timestamp).</summary>
            public long Sent { get; }

            public long SinceNano => Since.ToUnixTimeSeconds() * 1_000_000_000L;

            public long UntilNano => Until.ToUnixTimeMilliseconds() * 1_000_000L;

            /// <summary>How many events it returned.</summary>
            public int Count { get; set; }

            /// <summary>The newest event it returned (Unix nanoseconds, the engine's clock), 0 for none.</summary>
            public long NewestNano { get; set; }

            /// <summary>How long after its sending the last event it returned arrived.</summary>
            public TimeSpan LastArrival { get; set; }

            public HashSet<(string Id, string Action, long TimeNano)> ReturnedKeys { get; } = new HashSet<(string, string, long)>();
        }
    }

    /// <summary>What a finished catch-up proves (<see cref="EventCoverage.Finish"/>).</summary>
    internal enum CatchUpVerdict
    {
        /// <summary>It returned every event the connection knew inside what it asked for.</summary>
        Whole,

        /// <summary>It was cut short: asked again at the next heartbeat, with a longer window.</summary>
        Cut,

        /// <summary>It was cut where a longer window cannot help: the view lists again.</summary>
        Untrusted,
    }
}
