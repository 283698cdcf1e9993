using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;

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

        private readonly ContainerEngine _client;
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly object _gate = new object();
        private readonly Dictionary<string, ContainerSummary> _map = new Dictionary<string, ContainerSummary>(StringComparer.Ordinal);
        // Containers this process changed through the session's client: inspected at the next read.
        private readonly ConcurrentDictionary<string, bool> _touched = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        private volatile EngineSnapshot _snapshot; // null while the stream is not live
        private Task _loop;
        private long _lists;

        /// <param name="client">The view's own client (not a runspace's): the view disposes it.</param>
        public EngineView(ContainerEngine client)
        {
            _client = client ?? throw new ArgumentNullException(nameof(client));
        }

        public string Endpoint => _client.Endpoint;

        /// <summary>Engine calls the view made (its stream, its lists, its inspects).</summary>
        public long Calls => _client.Calls;

        /// <summary>How many times the view listed the engine: once per (re)connection.</summary>
        public long Lists => Interlocked.Read(ref _lists);

        /// <summary>Whether the stream is live and the view answers.</summary>
        public bool IsLive => _snapshot != null;

        /// <summary>Starts following, in the background. Once.</summary>
        public void Start()
        {
            lock (_gate)
            {
                if (_loop != null) return;
                _loop = Task.Run(() => Follow(_stop.Token));
            }
        }

        /// <summary>
        /// The engine as the view has it, or null while the stream is not live (the caller lists, as without a view).
        /// Containers the process changed itself since the last read are inspected first (one call each).
        /// </summary>
        public EngineSnapshot TryRead(CancellationToken cancellationToken)
        {
            if (_snapshot == null) return null;
            foreach (var id in _touched.Keys.ToList())
            {
                if (!_touched.TryRemove(id, out _)) continue;
                ContainerSummary now;
                try
                {
                    now = _client.Describe(id, cancellationToken);
                }
                catch
                {
                    _touched.TryAdd(id, true);
                    throw;
                }
                lock (_gate)
                {
                    if (_snapshot == null) return null;
                    if (now == null) _map.Remove(id);
                    else _map[id] = now;
                    Publish();
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
                _touched[id] = true;
                return;
            }
            _touched.TryRemove(id, out _);
            lock (_gate)
            {
                if (_snapshot != null && _map.Remove(id)) Publish();
            }
        }

        /// <summary>Ends the stream under way: the view stops answering, connects again and lists again.</summary>
        public void Reconnect() => _client.Reconnect();

        private async Task Follow(CancellationToken stop)
        {
            var retry = FirstRetry;
            while (!stop.IsCancellationRequested)
            {
                var events = Channel.CreateUnbounded<ContainerEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
                Task stream = null;
                try
                {
                    // Subscribe first (since= a little before, for what happens until the engine has registered it), then list.
                    stream = _client.FollowEvents(DateTimeOffset.UtcNow - SinceMargin, m =>
                    {
                        var e = ContainerEvent.From(m);
                        if (e != null) events.Writer.TryWrite(e);
                    }, stop);
                    _ = stream.ContinueWith(t => events.Writer.TryComplete(t.Exception?.GetBaseException()), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                    var listed = _client.Snapshot(stop);
                    lock (_gate)
                    {
                        _map.Clear();
                        foreach (var c in listed.Containers) _map[c.Id] = c;
                        Interlocked.Increment(ref _lists);
                        while (events.Reader.TryRead(out var e)) EngineEventApplier.Apply(_map, e, Describe);
                        _touched.Clear();
                        Publish();
                    }
                    retry = FirstRetry;
                    while (await events.Reader.WaitToReadAsync(stop).ConfigureAwait(false))
                    {
                        lock (_gate)
                        {
                            var changed = false;
                            while (events.Reader.TryRead(out var e)) changed |= EngineEventApplier.Apply(_map, e, Describe);
                            if (changed) Publish();
                        }
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    break;
                }
#pragma warning disable CA1031 // any end of the stream (unreachable, refused, cut, disposed) means the same: not live, connect again
                catch (Exception)
                {
                    retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, LastRetry.Ticks));
                }
#pragma warning restore CA1031
                finally
                {
                    lock (_gate) _snapshot = null;
                    // The stream's own end (fault or cancel) is observed here whatever ended the loop above.
                    _ = stream?.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }
                try
                {
                    await Task.Delay(retry, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        private ContainerSummary Describe(string id) => _client.Describe(id, _stop.Token);

        /// <summary>A new snapshot for the next readers; one already handed out never changes. Under the lock.</summary>
        private void Publish() => _snapshot = new EngineSnapshot(_map.Values.ToList());

        /// <summary>Ends the stream and the background task (waits for it a little), then the client.</summary>
        public void Dispose()
        {
            _stop.Cancel();
            _client.Dispose(); // ends the stream under way
            Task loop;
            lock (_gate) loop = _loop;
            var ended = loop == null || loop.Wait(TimeSpan.FromSeconds(5));
            if (ended) _stop.Dispose();
        }
    }
}
