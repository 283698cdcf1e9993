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
        private readonly ContainerEngine _client;
        private readonly TimeProvider _time;
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly object _gate = new object();
        // The containers and the number of the look each came from (under _gate; ViewMap).
        private readonly ViewMap _map;
        // Containers this process changed through the session's client: inspected at the next read.
        // Each with the stamp of its last touch: a list covers only the touches made before it began.
        private readonly ConcurrentDictionary<string, long> _touched = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        private long _touches;
        private volatile EngineSnapshot _snapshot; // null while the stream is not live
        // When each event of the connection under way arrived (Stopwatch ticks), until the loop has applied it: a view
        // whose oldest unapplied event is older than the bound (an inspect the engine is slow to answer while it still
        // answers pings) is behind, and does not answer.
        private volatile ConcurrentQueue<long> _unapplied = new ConcurrentQueue<long>();
        private Task _loop;
        private long _lists;
        // When TryRead was last called (Stopwatch ticks); a view starts as never read, so only a read makes its catch-ups frequent.
        private long _lastRead = Stopwatch.GetTimestamp() - (long)(ViewTiming.ReadRecently.TotalSeconds * Stopwatch.Frequency);
        // When the view was made or last read (Stopwatch ticks): unused for _retireAfter, it ends itself.
        private long _lastUse = Stopwatch.GetTimestamp();
        private readonly TimeSpan _retireAfter;
        private readonly TimeSpan _retireNeverLiveAfter;
        private readonly Action<EngineView> _retired;
        private int _retiring;
        private int _wasLive; // 1 once the view first answered
        private Timer _idleCheck;

        /// <param name="client">The view's own client (not a runspace's): the view disposes it.</param>
        /// <param name="time">This machine's clock; null for the system's. The engine's is read from it on each connection (<see cref="EngineClock"/>).</param>
        /// <param name="retireAfter">How long the view may go unread before it ends itself; null for <see cref="ViewTiming.RetireAfter"/>.</param>
        /// <param name="retired">Told once the view ended itself for being unread (its loop ended and its client is disposed), on the view's task, with no lock held.</param>
        /// <param name="removalsKept">How many more numbers of removed containers the view keeps before it lets go of those it can; null for the default, 1,024 (<c>ViewMap.RemovalsKept</c>).</param>
        /// <param name="retireNeverLiveAfter">
        /// How long the view may go unread before it ends itself while it has never answered (an endpoint mistyped, or a host
        /// gone), when that is shorter than <paramref name="retireAfter"/>; null for <paramref name="retireAfter"/>. The
        /// agent's views, kept a day for askers to come, give up an endpoint that never answered as a session's do.
        /// </param>
        public EngineView(ContainerEngine client, TimeProvider time = null, TimeSpan? retireAfter = null, Action<EngineView> retired = null, int? removalsKept = null,
            TimeSpan? retireNeverLiveAfter = null)
        {
            _map = new ViewMap(removalsKept ?? ViewMap.RemovalsKept);
            _client = client ?? throw new ArgumentNullException(nameof(client));
            _time = time ?? TimeProvider.System;
            _retireAfter = retireAfter ?? ViewTiming.RetireAfter;
            if (_retireAfter <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(retireAfter), _retireAfter, "A view's idle bound must be positive.");
            _retireNeverLiveAfter = retireNeverLiveAfter is TimeSpan neverLive && neverLive < _retireAfter ? neverLive : _retireAfter;
            if (_retireNeverLiveAfter <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(retireNeverLiveAfter), _retireNeverLiveAfter, "A view's idle bound must be positive.");
            _retired = retired;
        }

        /// <summary>
        /// Read by other processes at any time (the agent's views): its quiet catch-ups repeat as for a view just read
        /// (<see cref="ViewTiming.ReadCatchUpRepeat"/>), whenever it was last read, so that a lone event the stream holds
        /// back is in it within about a heartbeat for whoever asks next.
        /// </summary>
        public bool AlwaysInUse { get; init; }

        /// <summary>Whether the view ended itself for being unread (<see cref="ViewTiming.RetireAfter"/>): it never answers again.</summary>
        public bool IsRetired => Volatile.Read(ref _retiring) == 1;

        public string Endpoint => _client.Endpoint;

        /// <summary>The engine family the view follows the endpoint as (Auto until its client asked, for a view made without one).</summary>
        public EngineKind Kind => _client.KnownKind;

        /// <summary>Engine calls the view made (its stream, its lists, its inspects).</summary>
        public long Calls => _client.Calls;

        /// <summary>How many times the view listed the engine: once per (re)connection.</summary>
        public long Lists => Interlocked.Read(ref _lists);

        /// <summary>Whether the stream is live and the view answers.</summary>
        public bool IsLive => _snapshot != null;

        /// <summary>Whether a read gets the view's snapshot now: live, and not behind (<see cref="TryRead"/>).</summary>
        public bool Answers => IsLive && !IsBehind;

        /// <summary>
        /// Whether an event arrived more than <see cref="ViewTiming.FreshnessBound"/> ago and is not applied yet, or a container the view
        /// does not have yet (a create), or one that started (<see cref="EngineEventApplier.MayBind"/>), has waited that long
        /// for its inspect: the view then does not answer, and the caller lists, until it has caught up.
        /// </summary>
        public bool IsBehind
        {
            get
            {
                if (_unapplied.TryPeek(out var arrived) && Stopwatch.GetElapsedTime(arrived) > ViewTiming.FreshnessBound) return true;
                lock (_gate) return _map.LookOverdue(ViewTiming.FreshnessBound);
            }
        }

        /// <summary>Starts following, in the background. Once.</summary>
        public void Start()
        {
            lock (_gate)
            {
                if (_loop != null) return;
                _loop = Task.Run(() => Follow(_stop.Token));
                var every = ViewTiming.IdleCheckEvery(_retireNeverLiveAfter); // the shorter bound
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
            if (!Answers) return null;
            foreach (var id in _touched.Keys.ToList())
            {
                if (!_touched.TryRemove(id, out var stamp)) continue;
                long order;
                lock (_gate)
                {
                    if (_snapshot == null) return null;
                    order = _map.Begin();
                }
                ContainerSummary now;
                try
                {
                    now = _client.Describe(id, cancellationToken);
                }
                catch (Exception) when (IsRetired)
                {
                    // Retired meanwhile (its client ended under this inspect): not live, the caller lists.
                    lock (_gate) _map.Ended(order);
                    return null;
                }
                catch
                {
                    _touched.TryAdd(id, stamp);
                    lock (_gate) _map.Ended(order);
                    throw;
                }
                lock (_gate)
                {
                    _map.Ended(order);
                    if (_snapshot == null) return null;
                    if (_map.Take(id, order, now)) Publish();
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
                if (_map.Removed(id, live: _snapshot != null)) Publish(); // gone: a look under way started before
            }
        }

        /// <summary>Ends the stream under way: the view stops answering, connects again and lists again.</summary>
        public void Reconnect() => _client.Reconnect();

        private async Task Follow(CancellationToken stop)
        {
            TimeSpan? retry = null;
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
                    var coverage = new EventCoverage(clock.Now - ViewTiming.SinceMargin - clock.Uncertainty, ViewTiming.CatchUpWindow);
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
                    lock (_gate) listedAt = _map.Begin();
                    EngineSnapshot listed;
                    try
                    {
                        // On a thread of its own: a list of a thousand containers takes podman a second.
                        listed = await Task.Factory.StartNew(() => _client.Snapshot(stop), stop, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
                    }
                    catch
                    {
                        lock (_gate) _map.Ended(listedAt);
                        throw;
                    }
                    lock (_gate)
                    {
                        // Removals this process made while the list was under way (Touched) are newer than the list.
                        _map.Listed(listedAt, listed.Containers);
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
                        // ping every ViewTiming.HeartbeatInterval that fails ends this connection, and the view stops answering.
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
                retry = ViewTiming.NextRetry(retry, liveAt is long since ? Stopwatch.GetElapsedTime(since) : null);
                try
                {
                    await Task.Delay(retry.Value, stop).ConfigureAwait(false);
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
        /// Retires the view when it went unread for its bound (<see cref="ViewTiming.IsIdle"/>): it stops answering at once and its
        /// loop ends, whatever it waits on. Once; never after Dispose. Called by the idle check's timer.
        /// </summary>
        private bool RetireIfIdle()
        {
            var bound = Volatile.Read(ref _wasLive) == 1 ? _retireAfter : _retireNeverLiveAfter;
            if (!ViewTiming.IsIdle(Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastUse)), bound)) return false;
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
        /// Pings the engine every <see cref="ViewTiming.HeartbeatInterval"/>, and once the stream has been quiet for
        /// <see cref="ViewTiming.QuietBeforeCatchUp"/>, then every <see cref="ViewTiming.QuietCatchUpRepeat"/> while it stays quiet (every
        /// <see cref="ViewTiming.ReadCatchUpRepeat"/> while the view is read: <see cref="ViewTiming.CatchUpRepeat"/>), asks for
        /// the events since what the last catch-ups returned (up to the connection's window ahead, at first
        /// <see cref="ViewTiming.CatchUpWindow"/>: <see cref="EventCoverage"/>), applying those the stream did not deliver like any
        /// other; the first failure of either, or a catch-up cut short at the longest window, ends the connection's events.
        /// </summary>
        private async Task Heartbeat(CancellationTokenSource connection, ChannelWriter<ContainerEvent> events, EventCoverage coverage, EngineClock clock, Action<Docker.DotNet.Models.Message> take)
        {
            try
            {
                while (true)
                {
                    await Task.Delay(ViewTiming.HeartbeatInterval, connection.Token).ConfigureAwait(false);
                    await _client.PingAsync(connection.Token).ConfigureAwait(false);
                    if (coverage.DueForCatchUp(ViewTiming.CatchUpRepeat(AlwaysInUse ? TimeSpan.Zero : Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastRead))), out var since))
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
                        if (ViewTiming.CatchUpMayHaveLost(asked.Count, _client.KnownKind))
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
        /// queue of unapplied ones. A look this starts is due since the oldest of those arrivals, not since now: events
        /// that waited for a list (seconds, at a thousand containers on podman) already count against the freshness
        /// bound, and the view is behind (<see cref="IsBehind"/>) until their looks are in.
        /// </summary>
        private void ApplyWaiting(Channel<ContainerEvent> events, ConcurrentQueue<long> unapplied, CancellationToken connection)
        {
            var oldest = unapplied.TryPeek(out var arrived) ? arrived : Stopwatch.GetTimestamp();
            var batch = new List<ContainerEvent>();
            while (events.Reader.TryRead(out var e)) batch.Add(e);
            if (batch.Count == 0) return;
            foreach (var e in EngineEventApplier.Coalesce(batch)) Apply(e, oldest, events.Writer, connection);
            for (var i = 0; i < batch.Count; i++) unapplied.TryDequeue(out _);
        }

        /// <summary>
        /// Applies one event: at once under the lock when it needs no look (a removal, a rename or pause in place) and no
        /// look of its container is under way, else starts an inspect (<see cref="Look"/>) and goes on. Inspects answer in
        /// any order: what the view holds of a container is always what the latest-started of them said (<see cref="ViewMap.Take"/>).
        /// </summary>
        private void Apply(ContainerEvent e, long arrived, ChannelWriter<ContainerEvent> events, CancellationToken connection)
        {
            long order;
            lock (_gate)
            {
                if (_map.TryApplyInPlace(e, out var changed))
                {
                    if (changed && _snapshot != null) Publish();
                    return;
                }
                order = _map.BeginLook(e, arrived); // the view is behind on this container since its oldest event due
            }
            _ = Look(e, order, events, connection);
        }

        /// <summary>
        /// Inspects the event's container without holding a thread, then applies what the engine says unless what the view
        /// has of that container started later. An inspect that fails ends the connection: the view lists again. The
        /// inspects run concurrently, off the loop: podman answers an inspect only once a stop of that container has ended,
        /// and a loop waiting on it would hold every other event back.
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
                lock (_gate) _map.Ended(order);
                return;
            }
#pragma warning disable CA1031 // whatever ended the inspect (refused, unreachable, disposed) ends the connection the same way
            catch (Exception failure)
            {
                lock (_gate) _map.Ended(order);
                events.TryComplete(failure);
                return;
            }
#pragma warning restore CA1031
            lock (_gate)
            {
                _map.Ended(order);
                if (_map.Take(e.Id, order, described) && _snapshot != null) Publish();
            }
        }

        /// <summary>How many looks (lists, inspects) of the view are under way.</summary>
        internal int UnderWay
        {
            get
            {
                lock (_gate) return _map.UnderWay;
            }
        }

        /// <summary>How many numbers the view keeps (of containers in its map, and of removed ones a look may still need).</summary>
        internal int Remembered
        {
            get
            {
                lock (_gate) return _map.Remembered;
            }
        }

        /// <summary>A new snapshot for the next readers; one already handed out never changes. Under the lock.</summary>
        private void Publish()
        {
            _snapshot = _map.ToSnapshot();
            Volatile.Write(ref _wasLive, 1);
        }

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
