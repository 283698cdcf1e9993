using System;

namespace DyadPorts.Core.Engines
{
    /// <summary>
    /// The times an <see cref="EngineView"/> keeps to: how fresh it promises to be, how often it pings and catches up,
    /// how soon it tries a connection again and when it ends itself for being unread; and the pure decisions made of them.
    /// </summary>
    public static class ViewTiming
    {
        /// <summary>
        /// How old a change of another client may be and still be missing from the view. podman 4.3 writes its events to
        /// a file that its stream polls every 250 ms; the event then crosses the socket and the view inspects a created
        /// container once (a few ms). 250 ms + delivery + one inspect, with room for a loaded 2-core host: 1 s.
        /// dockerd sends at once, so there the view is fresher. The process's own writes are seen at once (ContainerChanged).
        /// </summary>
        public static readonly TimeSpan FreshnessBound = TimeSpan.FromSeconds(1);

        /// <summary>How far before its subscription a stream asks for events again (its seconds are whole; clocks may differ a little).</summary>
        internal static readonly TimeSpan SinceMargin = TimeSpan.FromSeconds(2);
        /// <summary>The first wait before a view connects again after its stream ended; <see cref="NextRetry"/>.</summary>
        internal static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(100);

        /// <summary>The longest wait before a view connects again; <see cref="NextRetry"/>.</summary>
        internal static readonly TimeSpan LastRetry = TimeSpan.FromSeconds(5);

        /// <summary>
        /// How long a view waits before it connects again after a connection ended. A connection that was live at least
        /// <see cref="LastRetry"/> starts the waits over at <see cref="FirstRetry"/>; one that ended sooner (or was never live)
        /// waits twice as long as the last, up to <see cref="LastRetry"/>, so a stream that keeps ending does not make the
        /// view list the engine ten times a second.
        /// </summary>
        /// <param name="last">The last wait; null before the first.</param>
        /// <param name="wasLiveFor">How long the connection that ended was live; null if it never was.</param>
        internal static TimeSpan NextRetry(TimeSpan? last, TimeSpan? wasLiveFor)
        {
            if (last is not TimeSpan previous || wasLiveFor >= LastRetry) return FirstRetry;
            return TimeSpan.FromTicks(Math.Min(previous.Ticks * 2, LastRetry.Ticks));
        }

        /// <summary>
        /// How often a live view pings its engine: a stream that went silent without closing (a remote host powered
        /// off, a split network, a hung engine) is out of service within this plus the ping's 3 s timeout.
        /// </summary>
        public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(1);

        /// <summary>
        /// How long a stream may be quiet before the heartbeat asks the engine once more for what came since the last
        /// catch-up (up to its window ahead: <see cref="CatchUpWindow"/>, <see cref="EventCoverage"/>): podman 4.3's stream, in full test runs, held back the last
        /// event before a quiet spell (a removal not in a view 3 s later, delivered only with the next event).
        /// </summary>
        public static readonly TimeSpan QuietBeforeCatchUp = TimeSpan.FromMilliseconds(500);

        /// <summary>
        /// While a stream stays quiet, how often the heartbeat catches up again after the quiet spell's first catch-up:
        /// a lone event the stream holds back or drops after that (nothing heard after it to start a new quiet spell) is
        /// in the view within this, plus a heartbeat and <see cref="CatchUpWindow"/>. Each costs dockerd an answer from
        /// memory, and podman 4.3 a read of its events file (36 ms of its CPU with a 0.6 MB file:
        /// docs/bench/podman-catchup-cpu-2026-11-30.txt).
        /// </summary>
        public static readonly TimeSpan QuietCatchUpRepeat = TimeSpan.FromSeconds(10);

        /// <summary>
        /// While someone reads the view (a read within <see cref="ReadRecently"/>), the quiet spell's catch-up repeats this
        /// often instead of every <see cref="QuietCatchUpRepeat"/>: at every heartbeat. A lone event the stream holds back
        /// or drops is then in the view within about a heartbeat with its ping and catch-up (<see cref="CatchUpWindow"/>)
        /// and an inspect, about 1.5 s, while the view is in use; an idle view's engine pays for a
        /// catch-up only every <see cref="QuietCatchUpRepeat"/>. (In a full test run podman 4.3's stream now and then held
        /// back such a lone event, and the view showed it only at the next 10 s catch-up.) A little under the
        /// heartbeat's interval, so that a heartbeat whose wait ends a little early still finds the catch-up due. Measured
        /// (docs/bench/view-background-2026-12-01.txt): a view read every 200 ms costs podman 4.3 1.7% of a core with a
        /// 0.5 MB events file (0.5% idle), dockerd 0.1%.
        /// </summary>
        public static readonly TimeSpan ReadCatchUpRepeat = HeartbeatInterval - TimeSpan.FromMilliseconds(100);

        /// <summary>How recent a read keeps the quiet catch-up at <see cref="ReadCatchUpRepeat"/>.</summary>
        public static readonly TimeSpan ReadRecently = TimeSpan.FromSeconds(30);

        /// <summary>
        /// How long a view may go unread before it ends itself: its stream, its pings and catch-ups, its reconnections to
        /// an engine that no longer answers, and its client. A session that used an endpoint once an hour ago (a remote
        /// host, another socket) then no longer keeps a connection open to it and pings it every second. The endpoint's
        /// next reads start over as for a new one: the first lists, the second starts a new view (<see cref="EngineViews"/>).
        /// </summary>
        public static readonly TimeSpan RetireAfter = TimeSpan.FromMinutes(10);

        /// <summary>Whether a view last used <paramref name="sinceUse"/> ago retires, given its bound.</summary>
        internal static bool IsIdle(TimeSpan sinceUse, TimeSpan retireAfter) => sinceUse >= retireAfter;

        /// <summary>How often a quiet stream's catch-up repeats, given how long ago the view was last read.</summary>
        internal static TimeSpan CatchUpRepeat(TimeSpan sinceRead) => sinceRead < ReadRecently ? ReadCatchUpRepeat : QuietCatchUpRepeat;

        /// <summary>
        /// A stream that never goes quiet (a container restarting in a loop on a shared host keeps it busy) still gets a
        /// catch-up this often: an event it dropped or never delivered meanwhile would otherwise wait for a quiet spell
        /// that may never come. Busy, the stream flushes what podman holds back, so this is for drops, and rare.
        /// </summary>
        public static readonly TimeSpan BusyCatchUpRepeat = QuietCatchUpRepeat;

        /// <summary>
        /// Whether a catch-up is due at a heartbeat: once a stream has been quiet for <see cref="QuietBeforeCatchUp"/>
        /// (once per quiet spell, then every <paramref name="repeat"/> while it stays quiet), and every
        /// <see cref="BusyCatchUpRepeat"/> while it never is.
        /// </summary>
        /// <param name="sinceHeard">Since the stream last delivered an event (or the connection began).</param>
        /// <param name="caughtUpThisSpell">Whether this quiet spell had its catch-up already.</param>
        /// <param name="sinceCatchUp">Since the last catch-up ended (or the connection began).</param>
        /// <param name="repeat">The quiet spell's repeat (<see cref="CatchUpRepeat"/>).</param>
        internal static bool CatchUpDue(TimeSpan sinceHeard, bool caughtUpThisSpell, TimeSpan sinceCatchUp, TimeSpan repeat) =>
            sinceHeard < QuietBeforeCatchUp ? sinceCatchUp >= BusyCatchUpRepeat : !caughtUpThisSpell || sinceCatchUp >= repeat;

        /// <summary>
        /// dockerd answers an events query's since= from a buffer of its last 256 events (moby's daemon/events,
        /// eventsLimit): a catch-up that returns that many may have lost older ones it was asked for, so the view takes
        /// itself out of service and lists again instead (<see cref="CatchUpMayHaveLost"/>).
        /// </summary>
        public const int CatchUpMost = 256;

        /// <summary>
        /// Whether a catch-up that returned <paramref name="returned"/> events cannot be trusted to hold all it was asked
        /// for. Podman reads its events file, which has no such limit (at its rewrite the live stream ends, and the view
        /// lists again for that), so only an engine that may be dockerd counts: one known as Podman never. A busy minute of
        /// podman's, caught up in one go, then costs no list of every container (half a second at K=1,000).
        /// </summary>
        internal static bool CatchUpMayHaveLost(int returned, EngineKind kind) => returned >= CatchUpMost && !EventCoverage.ReadsFile(kind);

        /// <summary>
        /// How far ahead of now a connection's first catch-up's <c>until</c> lies: podman reads its events file only until
        /// then (with until=now it returns at once, without them), dockerd answers from memory. The catch-up waits that
        /// long. On podman the connection's later windows follow how long its reads take (<see cref="EventCoverage.NextWindow"/>).
        /// </summary>
        public static readonly TimeSpan CatchUpWindow = TimeSpan.FromMilliseconds(250);

        /// <summary>
        /// How often a view checks whether it went unread for its bound: a quarter of the bound, at most a minute. A
        /// timer of its own, not the loop: a view whose engine accepts connections and never answers waits on its list
        /// for as long as the client's timeout, and must still retire on time (its list is then cancelled).
        /// </summary>
        internal static TimeSpan IdleCheckEvery(TimeSpan retireAfter) =>
            TimeSpan.FromTicks(Math.Clamp(retireAfter.Ticks / 4, TimeSpan.FromMilliseconds(100).Ticks, TimeSpan.FromMinutes(1).Ticks));
    }
}
