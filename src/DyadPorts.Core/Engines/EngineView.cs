using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using DyadPorts.Core.Diagnostics;

namespace DyadPorts.Core.Engines
{
    /// <summary>
    /// One endpoint's containers, kept by following the engine's /events on a background task of its own client: it
    /// subscribes first, lists, applies what arrived meanwhile, then applies each event (<see cref="EngineEventApplier"/>).
    /// It answers only while its stream is live; on every end of the stream (error, engine restarted, podman's events
    /// file rewritten, <see cref="ContainerEngine.Reconnect"/>) it stops answering and lists again when it reconnects:
    /// <c>since=</c> is used, but only as best effort, never as proof that nothing was missed.
    /// </summary>
    public sealed class EngineView : IDisposable
    {
        /// <summary>
        /// How old a change of another client may be and still be missing from the view. podman 4.3 writes its events to
        /// a file that its stream polls every 250 ms; the event then crosses the socket and the view inspects a created
        /// container once (a few ms). 250 ms + delivery + one inspect, with room for a loaded 2-core host: 1 s.
        /// dockerd sends at once, so there the view is fresher. The process's own writes are seen at once (ContainerChanged).
        /// </summary>
        public static readonly TimeSpan FreshnessBound = TimeSpan.FromSeconds(1);

        /// <summary>How far before its subscription a stream asks for events again (its seconds are whole; clocks may differ a little).</summary>
        private static readonly TimeSpan SinceMargin = TimeSpan.FromSeconds(2);
        private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(100);
        private static readonly TimeSpan LastRetry = TimeSpan.FromSeconds(5);

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

        private readonly ContainerEngine _client;
        private readonly TimeProvider _time;
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly object _gate = new object();
        private readonly Dictionary<string, ContainerSummary> _map = new Dictionary<string, ContainerSummary>(StringComparer.Ordinal);
        // Containers this process changed through the session's client: inspected at the next read.
        // Each with the stamp of its last touch: a list covers only the touches made before it began.
        private readonly ConcurrentDictionary<string, long> _touched = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        private long _touches;
        // Every look at the engine (a list, an inspect, an event applied in place) takes the next number as it starts
        // (under _gate); per container, the number of what the map holds. A result is applied only if it started after
        // that: inspects answer out of order, and a later start sees the engine at least as new.
        private long _order;
        private long _listedAt; // the number of the last list: anything that started before it is older than the map
        private readonly Dictionary<string, long> _applied = new Dictionary<string, long>(StringComparer.Ordinal);
        // The numbers of the looks under way (lists, inspects). Of a container no longer in the map, _applied is kept only
        // to refuse what a look that started before its removal says: once every look under way started after it, it is
        // let go (Prune), so a long-lived view of a busy host does not grow with every container ever removed.
        private readonly SortedSet<long> _underWay = new SortedSet<long>();
        private int _keptAfterPrune;
        private readonly int _removalsKept;
        private volatile EngineSnapshot _snapshot; // null while the stream is not live
        // When each event of the connection under way arrived (Stopwatch ticks), until the loop has applied it: a view
        // whose oldest unapplied event is older than the bound (an inspect the engine is slow to answer while it still
        // answers pings) is behind, and does not answer.
        private volatile ConcurrentQueue<long> _unapplied = new ConcurrentQueue<long>();
        // Containers an event sent the view to inspect (under _gate): when the oldest inspect still due for each began, and
        // the number of the newest (it is no longer due once a result that started as late is in). The
        // inspects run concurrently, off the loop, and hold no thread while the engine answers: podman answers an inspect
        // only once a stop of that container has ended, and a loop waiting on it would hold every other event back.
        // Binds: one of the events due was a start, which may give a container host ports it did not hold (-P, -p 80).
        private readonly Dictionary<string, (long Since, long Newest, bool Binds)> _looks = new Dictionary<string, (long Since, long Newest, bool Binds)>(StringComparer.Ordinal);
        private Task _loop;
        private long _lists;
        // When TryRead was last called (Stopwatch ticks); a view starts as never read, so only a read makes its catch-ups frequent.
        private long _lastRead = Stopwatch.GetTimestamp() - (long)(ReadRecently.TotalSeconds * Stopwatch.Frequency);
        // When the view was made or last read (Stopwatch ticks): unused for _retireAfter, it ends itself.
        private long _lastUse = Stopwatch.GetTimestamp();
        private readonly TimeSpan _retireAfter;
        private readonly Action<EngineView> _retired;
        private int _retiring;
        private Timer _idleCheck;

        /// <param name="client">The view's own client (not a runspace's): the view disposes it.</param>
        /// <param name="time">This machine's clock; null for the system's. The engine's is read from it on each connection (<see cref="EngineClock"/>).</param>
        /// <param name="retireAfter">How long the view may go unread before it ends itself; null for <see cref="RetireAfter"/>.</param>
        /// <param name="retired">Told once the view ended itself for being unread (its loop ended and its client is disposed), on the view's task, with no lock held.</param>
        /// <param name="removalsKept">How many more numbers of removed containers the view keeps before it lets go of those it can; null for <see cref="RemovalsKept"/>.</param>
        public EngineView(ContainerEngine client, TimeProvider time = null, TimeSpan? retireAfter = null, Action<EngineView> retired = null, int? removalsKept = null)
        {
            _removalsKept = removalsKept ?? RemovalsKept;
            if (_removalsKept < 0) throw new ArgumentOutOfRangeException(nameof(removalsKept), _removalsKept, "A view keeps no fewer than none.");
            _client = client ?? throw new ArgumentNullException(nameof(client));
            _time = time ?? TimeProvider.System;
            _retireAfter = retireAfter ?? RetireAfter;
            if (_retireAfter <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(retireAfter), _retireAfter, "A view's idle bound must be positive.");
            _retired = retired;
        }

        /// <summary>Whether the view ended itself for being unread (<see cref="RetireAfter"/>): it never answers again.</summary>
        public bool IsRetired => Volatile.Read(ref _retiring) == 1;

        public string Endpoint => _client.Endpoint;

        /// <summary>Engine calls the view made (its stream, its lists, its inspects).</summary>
        public long Calls => _client.Calls;

        /// <summary>How many times the view listed the engine: once per (re)connection.</summary>
        public long Lists => Interlocked.Read(ref _lists);

        /// <summary>Whether the stream is live and the view answers.</summary>
        public bool IsLive => _snapshot != null;

        /// <summary>
        /// Whether an event arrived more than <see cref="FreshnessBound"/> ago and is not applied yet, or a container the view
        /// does not have yet (a create), or one that started (<see cref="EngineEventApplier.MayBind"/>), has waited that long
        /// for its inspect: the view then does not answer, and the caller lists, until it has caught up.
        /// </summary>
        public bool IsBehind
        {
            get
            {
                if (_unapplied.TryPeek(out var arrived) && Stopwatch.GetElapsedTime(arrived) > FreshnessBound) return true;
                lock (_gate) return _looks.Any(l => (l.Value.Binds || !_map.ContainsKey(l.Key)) && Stopwatch.GetElapsedTime(l.Value.Since) > FreshnessBound);
            }
        }

        /// <summary>Starts following, in the background. Once.</summary>
        public void Start()
        {
            lock (_gate)
            {
                if (_loop != null) return;
                _loop = Task.Run(() => Follow(_stop.Token));
                var every = IdleCheckEvery(_retireAfter);
                _idleCheck = new Timer(_ => RetireIfIdle(), null, every, every);
            }
        }

        /// <summary>
        /// The engine as the view has it, or null while the stream is not live (the caller lists, as without a view).
        /// Containers the process changed itself since the last read are inspected first (one call each), outside the
        /// view's lock; a result is kept unless what the view has of that container started later (it is newer).
        /// </summary>
        public EngineSnapshot TryRead(CancellationToken cancellationToken)
        {
            var readAt = Stopwatch.GetTimestamp();
            Interlocked.Exchange(ref _lastRead, readAt);
            Interlocked.Exchange(ref _lastUse, readAt);
            if (_snapshot == null || IsBehind) return null;
            foreach (var id in _touched.Keys.ToList())
            {
                if (!_touched.TryRemove(id, out var stamp)) continue;
                long order;
                lock (_gate)
                {
                    if (_snapshot == null) return null;
                    order = Begin();
                }
                ContainerSummary now;
                try
                {
                    now = _client.Describe(id, cancellationToken);
                }
                catch (Exception) when (IsRetired)
                {
                    // Retired meanwhile (its client ended under this inspect): not live, the caller lists.
                    lock (_gate) _underWay.Remove(order);
                    return null;
                }
                catch
                {
                    _touched.TryAdd(id, stamp);
                    lock (_gate) _underWay.Remove(order);
                    throw;
                }
                lock (_gate)
                {
                    _underWay.Remove(order);
                    if (_snapshot == null) return null;
                    if (Take(id, order, now)) Publish();
                }
            }
            return _snapshot;
        }

        /// <summary>The process created, started, stopped or removed a container through another client of this endpoint.</summary>
        public void Touched(string id, bool removed)
        {
            if (string.IsNullOrEmpty(id)) return;
            if (!removed)
            {
                _touched[id] = Interlocked.Increment(ref _touches);
                return;
            }
            _touched.TryRemove(id, out _);
            // Short: the lock is never held across an engine call.
            lock (_gate)
            {
                Applied(id, ++_order); // gone: a look under way started before
                _looks.Remove(id);
                if (_snapshot != null && _map.Remove(id)) Publish();
            }
        }

        /// <summary>Ends the stream under way: the view stops answering, connects again and lists again.</summary>
        public void Reconnect() => _client.Reconnect();

        private async Task Follow(CancellationToken stop)
        {
            var retry = TimeSpan.FromTicks(FirstRetry.Ticks / 2); // the first wait is FirstRetry
            while (!stop.IsCancellationRequested)
            {
                // Two writers: the stream, and the heartbeat's catch-ups.
                var events = Channel.CreateUnbounded<ContainerEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
                var unapplied = new ConcurrentQueue<long>();
                _unapplied = unapplied;
                Task stream = null;
                Task heartbeat = null;
                long? liveAt = null;
                using var connection = CancellationTokenSource.CreateLinkedTokenSource(stop);
                try
                {
                    // Subscribe first (since= a little before, for what happens until the engine has registered it), then list.
                    // since= and a catch-up's until= are read by the engine against its own clock (podman drops live events
                    // older than since=): both are the engine's time, read on each connection.
                    var clock = await EngineClock.Read(_client, _time, connection.Token).ConfigureAwait(false);
                    var coverage = new EventCoverage(clock.Now - SinceMargin - clock.Uncertainty, CatchUpWindow);
                    void Take(Docker.DotNet.Models.Message m, bool late)
                    {
                        var e = ContainerEvent.From(m, late);
                        if (e == null) return;
                        unapplied.Enqueue(Stopwatch.GetTimestamp());
                        if (!events.Writer.TryWrite(e)) unapplied.TryDequeue(out _);
                    }
                    stream = _client.FollowEvents(coverage.Since, m =>
                    {
                        coverage.Heard(m);
                        Take(m, late: false);
                        // The engine's clock moved ahead (a VM's clock set after the host woke): the catch-ups' until= would
                        // lie in its past and bring nothing. Connect again, which reads the clock again and lists.
                        if (clock.IsAhead(m.TimeNano)) events.Writer.TryComplete(new InvalidOperationException($"The engine's clock moved ahead of the view's reading {clock.Now:o} (an event at {m.TimeNano} ns): connect again."));
                    }, connection.Token);
                    _ = stream.ContinueWith(t => events.Writer.TryComplete(t.Exception?.GetBaseException()), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                    long listedAt;
                    var touchedBefore = Interlocked.Read(ref _touches);
                    lock (_gate) listedAt = Begin();
                    EngineSnapshot listed;
                    try
                    {
                        // On a thread of its own: a list of a thousand containers takes podman a second.
                        listed = await Task.Factory.StartNew(() => _client.Snapshot(stop), stop, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
                    }
                    catch
                    {
                        lock (_gate) _underWay.Remove(listedAt);
                        throw;
                    }
                    lock (_gate)
                    {
                        _underWay.Remove(listedAt);
                        // Removals this process made while the list was under way (Touched) are newer than the list.
                        var removedSince = _applied.Where(a => a.Value > listedAt).ToList();
                        _map.Clear();
                        _looks.Clear();
                        _applied.Clear();
                        _keptAfterPrune = 0;
                        _listedAt = listedAt;
                        foreach (var c in listed.Containers)
                        {
                            _map[c.Id] = c;
                            _applied[c.Id] = listedAt;
                        }
                        foreach (var (id, order) in removedSince)
                        {
                            _map.Remove(id);
                            _applied[id] = order;
                        }
                        Interlocked.Increment(ref _lists);
                    }
                    ApplyWaiting(events, unapplied, connection.Token);
                    if (!events.Reader.Completion.IsCompleted) // a stream that ended while the view listed is no stream to be live on
                    {
                        lock (_gate)
                        {
                            // The list covers what the process touched before it began; a later touch is inspected at the next read.
                            foreach (var touch in _touched.Where(t => t.Value <= touchedBefore).ToList()) _touched.TryRemove(touch);
                            if (!IsRetired && !stop.IsCancellationRequested) Publish(); // a view retired meanwhile never answers again
                        }
                        liveAt = Stopwatch.GetTimestamp();
                        // A stream that never closes (a host powered off, a network split, a hung engine) sends nothing: a
                        // ping every HeartbeatInterval that fails ends this connection, and the view stops answering.
                        heartbeat = Heartbeat(connection, events.Writer, coverage, clock, m => Take(m, late: true));
                        while (await events.Reader.WaitToReadAsync(stop).ConfigureAwait(false))
                        {
                            ApplyWaiting(events, unapplied, connection.Token);
                        }
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    break;
                }
#pragma warning disable CA1031 // any end of the stream (unreachable, refused, cut, disposed, silent) means the same: not live, connect again
                catch (Exception)
                {
                }
#pragma warning restore CA1031
                finally
                {
                    lock (_gate) _snapshot = null;
                    await connection.CancelAsync().ConfigureAwait(false);
                    // The stream's and the heartbeat's own ends (fault or cancel) are observed here whatever ended the loop above.
                    _ = stream?.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                    _ = heartbeat?.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }
                // A connection that was live a while starts the waits over; one that ended at once (or never was live) waits
                // twice as long as the last, so a stream that keeps ending does not make the view list the engine ten times a second.
                retry = liveAt is long since && Stopwatch.GetElapsedTime(since) >= LastRetry ? FirstRetry : TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, LastRetry.Ticks));
                try
                {
                    await Task.Delay(retry, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            if (IsRetired)
            {
                // Ended for being unread, not by Dispose: nothing else will end the client, and the views are told.
                _idleCheck?.Dispose();
                _client.Dispose();
                _retired?.Invoke(this);
            }
        }

        /// <summary>
        /// How often a view checks whether it went unread for its bound: a quarter of the bound, at most a minute. A
        /// timer of its own, not the loop: a view whose engine accepts connections and never answers waits on its list
        /// for as long as the client's timeout, and must still retire on time (its list is then cancelled).
        /// </summary>
        internal static TimeSpan IdleCheckEvery(TimeSpan retireAfter) =>
            TimeSpan.FromTicks(Math.Clamp(retireAfter.Ticks / 4, TimeSpan.FromMilliseconds(100).Ticks, TimeSpan.FromMinutes(1).Ticks));

        /// <summary>
        /// Retires the view when it went unread for its bound (<see cref="IsIdle"/>): it stops answering at once and its
        /// loop ends, whatever it waits on. Once; never after Dispose. Called by the idle check's timer.
        /// </summary>
        private bool RetireIfIdle()
        {
            if (!IsIdle(Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastUse)), _retireAfter)) return false;
            lock (_gate)
            {
                if (_stop.IsCancellationRequested) return false; // disposed
                if (Interlocked.Exchange(ref _retiring, 1) == 1) return true;
                _snapshot = null;
            }
            try
            {
                _stop.Cancel(); // outside the lock: what the cancellation runs inline must not run under it
            }
#pragma warning disable CA1031 // on a timer's thread: nothing may escape (disposed meanwhile, or a cancellation callback that threw)
            catch (Exception)
            {
            }
#pragma warning restore CA1031
            return true;
        }

        /// <summary>
        /// Pings the engine every <see cref="HeartbeatInterval"/>, and once the stream has been quiet for
        /// <see cref="QuietBeforeCatchUp"/>, then every <see cref="QuietCatchUpRepeat"/> while it stays quiet (every
        /// <see cref="ReadCatchUpRepeat"/> while the view is read: <see cref="CatchUpRepeat"/>), asks for
        /// the events since what the last catch-ups returned (up to the connection's window ahead, at first
        /// <see cref="CatchUpWindow"/>: <see cref="EventCoverage"/>), applying those the stream did not deliver like any
        /// other; the first failure of either, or a catch-up cut short at the longest window, ends the connection's events.
        /// </summary>
        private async Task Heartbeat(CancellationTokenSource connection, ChannelWriter<ContainerEvent> events, EventCoverage coverage, EngineClock clock, Action<Docker.DotNet.Models.Message> take)
        {
            try
            {
                while (true)
                {
                    await Task.Delay(HeartbeatInterval, connection.Token).ConfigureAwait(false);
                    await _client.PingAsync(connection.Token).ConfigureAwait(false);
                    if (coverage.DueForCatchUp(CatchUpRepeat(Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastRead))), out var since))
                    {
                        var asked = coverage.Ask(since, clock.Now);
                        // Bounded like a ping: an engine that goes silent mid catch-up (the query sent, no answer, nothing
                        // closed) would otherwise hold the heartbeat, and no ping would ever end the view's connection.
                        using (var bounded = CancellationTokenSource.CreateLinkedTokenSource(connection.Token))
                        {
                            bounded.CancelAfter(asked.Window + ContainerEngine.PingTimeout);
                            await _client.FollowEvents(asked.Since, m =>
                            {
                                if (coverage.Returned(asked, m)) take(m);
                            }, bounded.Token, asked.Until).ConfigureAwait(false);
                        }
                        if (CatchUpMayHaveLost(asked.Count, _client.KnownKind))
                        {
                            // Ends the connection like a failed catch-up: out of service now, then connect and list again.
                            throw new IOException($"A catch-up returned {asked.Count} events, as many as dockerd keeps for since=: older ones it was asked for may be missing.");
                        }
                        // Cut short (podman stops reading its events file at until=): asked again at the next heartbeat with a
                        // longer window. At the longest, or on an engine that does not read a file, the view lists again.
                        if (coverage.Finish(asked, readsFile: EventCoverage.ReadsFile(_client.KnownKind)) == CatchUpVerdict.Untrusted)
                        {
                            throw new IOException($"A catch-up with a window of {asked.Window.TotalMilliseconds:0} ms did not return an event the view knew in what it asked for: what it missed cannot be told.");
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (connection.IsCancellationRequested)
            {
            }
#pragma warning disable CA1031 // a failed ping or catch-up (refused, unreachable, cut) ends the connection the same way
            catch (Exception e)
            {
                // Out of service at once, even while the loop waits on an inspect the silent engine will not answer;
                // then that inspect is cancelled and the loop connects again. (A later connection's view is left alone:
                // this one was cancelled before the next began.)
                lock (_gate)
                {
                    if (!connection.IsCancellationRequested) _snapshot = null;
                }
                events.TryComplete(e);
                try
                {
                    await connection.CancelAsync().ConfigureAwait(false);
                }
                catch (ObjectDisposedException)
                {
                    // the connection already ended
                }
            }
#pragma warning restore CA1031
        }

        /// <summary>
        /// Applies every event waiting, coalesced per container (<see cref="EngineEventApplier.Coalesce"/>: a burst costs at
        /// most one inspect per container, none for one created and removed within it), then takes their arrivals off the
        /// queue of unapplied ones.
        /// </summary>
        private void ApplyWaiting(Channel<ContainerEvent> events, ConcurrentQueue<long> unapplied, CancellationToken connection)
        {
            var batch = new List<ContainerEvent>();
            while (events.Reader.TryRead(out var e)) batch.Add(e);
            if (batch.Count == 0) return;
            foreach (var e in EngineEventApplier.Coalesce(batch)) Apply(e, events.Writer, connection);
            for (var i = 0; i < batch.Count; i++) unapplied.TryDequeue(out _);
        }

        /// <summary>
        /// Applies one event: at once under the lock when it needs no look (a removal, a rename or pause in place) and no
        /// look of its container is under way, else starts an inspect (<see cref="Look"/>) and goes on. Inspects answer in
        /// any order: what the view holds of a container is always what the latest-started of them said (<see cref="Take"/>).
        /// </summary>
        private void Apply(ContainerEvent e, ChannelWriter<ContainerEvent> events, CancellationToken connection)
        {
            long order;
            lock (_gate)
            {
                var removal = EngineEventApplier.IsRemoval(e.Action);
                // In place only when no look of this container is still under way: its result would be older than this
                // change, or this change would discard it, so a pending look makes any event of the container look again.
                if (!EngineEventApplier.NeedsLook(_map, e) && (removal || !_looks.ContainsKey(e.Id)))
                {
                    var changed = EngineEventApplier.Apply(_map, e, _ => null);
                    if (changed || removal)
                    {
                        Applied(e.Id, ++_order); // a look still under way started before this
                        _looks.Remove(e.Id);
                        if (changed && _snapshot != null) Publish();
                    }
                    return;
                }
                order = Begin();
                // The view is behind on this container since its oldest look due.
                var binds = EngineEventApplier.MayBind(e.Action);
                _looks[e.Id] = _looks.TryGetValue(e.Id, out var due) ? (due.Since, order, due.Binds || binds) : (Stopwatch.GetTimestamp(), order, binds);
            }
            _ = Look(e, order, events, connection);
        }

        /// <summary>
        /// Inspects the event's container without holding a thread, then applies what the engine says unless what the view
        /// has of that container started later. An inspect that fails ends the connection: the view lists again.
        /// </summary>
        private async Task Look(ContainerEvent e, long order, ChannelWriter<ContainerEvent> events, CancellationToken connection)
        {
            ContainerSummary described;
            try
            {
                // At most ContainerListing.InspectsAtOnce at a time; one waiting for a slot counts as behind (IsBehind).
                described = await _client.DescribeAsync(e.Id, queued: true, connection).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (connection.IsCancellationRequested)
            {
                lock (_gate) _underWay.Remove(order);
                return;
            }
#pragma warning disable CA1031 // whatever ended the inspect (refused, unreachable, disposed) ends the connection the same way
            catch (Exception failure)
            {
                lock (_gate) _underWay.Remove(order);
                events.TryComplete(failure);
                return;
            }
#pragma warning restore CA1031
            lock (_gate)
            {
                _underWay.Remove(order);
                if (Take(e.Id, order, described) && _snapshot != null) Publish();
            }
        }

        /// <summary>
        /// Under the lock: sets what an inspect numbered <paramref name="order"/> said of a container unless what the map
        /// has of it started later, and ends the wait for its looks that started no later.
        /// </summary>
        /// <returns>True when the map changed.</returns>
        private bool Take(string id, long order, ContainerSummary now)
        {
            if (_looks.TryGetValue(id, out var due) && due.Newest <= order) _looks.Remove(id);
            if (order < _listedAt) return false; // it began before the list the map holds
            if (_applied.TryGetValue(id, out var held) && held > order) return false; // a newer start is in
            Applied(id, order);
            return EngineEventApplier.Described(_map, id, now);
        }

        /// <summary>Under the lock: the next look's number, counted as under way until its result is taken or it failed.</summary>
        private long Begin()
        {
            var order = ++_order;
            _underWay.Add(order);
            return order;
        }

        /// <summary>
        /// Under the lock: what the map holds of a container (or its removal) started at <paramref name="order"/>. When the
        /// entries of containers no longer in the map grow by the view's <see cref="RemovalsKept"/> past what the last
        /// prune kept, those no look under way could still need are let go (<see cref="Prune"/>).
        /// </summary>
        private void Applied(string id, long order)
        {
            _applied[id] = order;
            if (_applied.Count - _map.Count <= _keptAfterPrune + _removalsKept) return;
            Prune(_applied, _map.ContainsKey, _underWay.Count == 0 ? long.MaxValue : _underWay.Min);
            _keptAfterPrune = Math.Max(0, _applied.Count - _map.Count); // a look stuck under way does not make every later entry scan again
        }

        /// <summary>How many more entries of containers no longer in the map a view keeps, by default, before it lets go of those it can.</summary>
        public const int RemovalsKept = 1024;

        /// <summary>How many looks (lists, inspects) of the view are under way.</summary>
        internal int UnderWay
        {
            get
            {
                lock (_gate) return _underWay.Count;
            }
        }

        /// <summary>How many numbers the view keeps (of containers in its map, and of removed ones a look may still need).</summary>
        internal int Remembered
        {
            get
            {
                lock (_gate) return _applied.Count;
            }
        }

        /// <summary>
        /// Lets go of the numbers of containers not in the map (<paramref name="inMap"/>) that every look under way (the
        /// oldest numbered <paramref name="oldestUnderWay"/>; <see cref="long.MaxValue"/> for none) started after: none
        /// of those looks could be refused by them, and a look that starts later is newer anyway.
        /// </summary>
        internal static void Prune(Dictionary<string, long> applied, Func<string, bool> inMap, long oldestUnderWay)
        {
            foreach (var gone in applied.Where(a => a.Value < oldestUnderWay && !inMap(a.Key)).Select(a => a.Key).ToList()) applied.Remove(gone);
        }

        /// <summary>A new snapshot for the next readers; one already handed out never changes. Under the lock.</summary>
        private void Publish() => _snapshot = new EngineSnapshot(_map.Values.ToList());

        /// <summary>Ends the stream and the background task (waits for it a little), then the client.</summary>
        public void Dispose()
        {
            Timer idleCheck;
            lock (_gate) idleCheck = _idleCheck;
            idleCheck?.Dispose();
            _stop.Cancel();
            _client.Dispose(); // ends the stream under way
            Task loop;
            lock (_gate) loop = _loop;
            var ended = loop == null || loop.Wait(TimeSpan.FromSeconds(5));
            if (ended) _stop.Dispose();
        }
    }
}
