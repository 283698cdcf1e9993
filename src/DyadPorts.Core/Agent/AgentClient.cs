using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Net.Sockets;
using System.Threading;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;

namespace DyadPorts.Core.Agent
{
    /// <summary>
    /// A session's way to the agent at one socket path (<see cref="EngineAgent"/>): asks for an endpoint's view where the
    /// session has none live, with the containers the session changed lately. No socket there costs a stat. An agent that
    /// does not answer within <see cref="AnswerTimeout"/> (the whole exchange), runs as another user, or speaks another
    /// protocol is not asked again for <see cref="QuietAfterFailure"/>, and the caller lists, as without an agent.
    /// Thread-safe: the session, and so this, is shared by every runspace of the process.
    /// </summary>
    public sealed class AgentClient
    {
        /// <summary>How long a session waits for the agent's whole answer before it lists instead.</summary>
        public static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(1);

        /// <summary>How long a session leaves an agent that failed it alone (an agent restarting is asked again after it).</summary>
        public static readonly TimeSpan QuietAfterFailure = TimeSpan.FromSeconds(30);

        /// <summary>
        /// How long a change of the session's own is sent along: past it, the agent's view has it even when its stream
        /// dropped the event. A dropped event is in the view at the view's next catch-up, which comes within
        /// <see cref="ViewTiming.BusyCatchUpRepeat"/> on a stream that is never quiet (<see cref="ViewTiming.QuietCatchUpRepeat"/>
        /// on an unread one), at a heartbeat, and brings it within <see cref="ViewTiming.CatchUpWindow"/>, inspected within
        /// <see cref="ViewTiming.FreshnessBound"/>: 12.25 s. A warm session's own view keeps its changes until its next read.
        /// </summary>
        public static readonly TimeSpan ChangesKept =
            (ViewTiming.BusyCatchUpRepeat > ViewTiming.QuietCatchUpRepeat ? ViewTiming.BusyCatchUpRepeat : ViewTiming.QuietCatchUpRepeat)
            + ViewTiming.HeartbeatInterval + ViewTiming.CatchUpWindow + ViewTiming.FreshnessBound;

        private readonly ConcurrentDictionary<ContainerEngine, Changes> _changes = new ConcurrentDictionary<ContainerEngine, Changes>();
        private readonly TimeProvider _time;
        private long _quietUntil; // timestamps of _time; 0 for none

        /// <param name="time">The clock of <see cref="QuietAfterFailure"/> and <see cref="ChangesKept"/>; null for the system's.</param>
        public AgentClient(string socketPath, TimeProvider time = null)
        {
            SocketPath = socketPath ?? throw new ArgumentNullException(nameof(socketPath));
            _time = time ?? TimeProvider.System;
        }

        public string SocketPath { get; }

        /// <summary>
        /// Follows what the session's client of an endpoint changes, from now on: called when a command's snapshots are put
        /// together, before the command can change anything. Once per client.
        /// </summary>
        public void Watch(ContainerEngine engine)
        {
            ArgumentNullException.ThrowIfNull(engine);
            if (_changes.ContainsKey(engine)) return;
            lock (_changes)
            {
                if (_changes.ContainsKey(engine)) return;
                var changes = new Changes(_time);
                engine.ContainerChanged += changes.Add;
                _changes[engine] = changes;
            }
        }

        /// <summary>The agent's view of <paramref name="engine"/>'s endpoint, or null (the caller lists).</summary>
        public EngineSnapshot Read(ContainerEngine engine, EngineKind kind, IOperationLog log, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(engine);
            ArgumentNullException.ThrowIfNull(log);
            var quietUntil = Interlocked.Read(ref _quietUntil);
            if (quietUntil != 0 && _time.GetTimestamp() < quietUntil) return null;
            if (!File.Exists(SocketPath)) return null;
            Watch(engine);
            var changes = _changes[engine];
            var sent = changes.Recent(ChangesKept, EngineAgent.MostChanges + 1);
            if (sent.Count > EngineAgent.MostChanges)
            {
                // More than the agent inspects for one answer: leaving some out could hide a container this session made.
                log.Verbose($"This session changed more than {EngineAgent.MostChanges} containers in the last {ChangesKept.TotalSeconds} s; listing instead of asking the DyadPorts agent.");
                return null;
            }
            AgentAnswer answer;
            try
            {
                answer = Ask(SocketPath, new AgentRequest
                {
                    Endpoint = engine.Endpoint,
                    Kind = kind,
                    TlsFolder = engine.Tls == null ? null : Path.GetDirectoryName(engine.Tls.CaPath),
                    TlsSource = engine.Tls?.Source,
                    Changed = sent,
                }, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
            {
                log.Verbose($"No DyadPorts agent listens at {SocketPath} (a socket nobody answers at); listing.");
                return null;
            }
            catch (AgentRefusedException e)
            {
                Quiet();
                log.Warning($"Not asking the process at {SocketPath} for engine views: {e.Message}");
                return null;
            }
#pragma warning disable CA1031 // whatever went wrong with the agent (silent, cut, malformed, a bug), the command lists, as without one
            catch (Exception e)
#pragma warning restore CA1031
            {
                Quiet();
                var why = e is OperationCanceledException ? $"no answer within {AnswerTimeout.TotalMilliseconds} ms" : e.Message;
                log.Verbose($"The DyadPorts agent at {SocketPath} did not answer ({why}); listing, and not asking it again for {QuietAfterFailure.TotalSeconds} s.");
                return null;
            }
            if (answer.Containers == null)
            {
                log.Verbose($"The DyadPorts agent at {SocketPath} did not lend its view: {answer.Reason}; listing.");
                return null;
            }
            log.Verbose($"Engine {kind} at {engine.Endpoint}: {answer.Containers.Count} container(s) in the view of the DyadPorts agent at {SocketPath} (every event it heard applied within {ViewTiming.FreshnessBound.TotalMilliseconds} ms; {sent.Count} recent change(s) of this session's inspected again).");
            return new EngineSnapshot(answer.Containers);
        }

        private void Quiet() => Interlocked.Exchange(ref _quietUntil, _time.GetTimestamp() + (long)(QuietAfterFailure.TotalSeconds * _time.TimestampFrequency));

        /// <summary>One exchange (<see cref="AgentExchange"/>), bounded by <see cref="AnswerTimeout"/> and the command's stop.</summary>
        private static AgentAnswer Ask(string socketPath, AgentRequest request, CancellationToken cancellationToken) =>
            AgentWire.DecodeAnswer(AgentExchange.Run(socketPath, AgentWire.Encode(request), AnswerTimeout, cancellationToken, out _));

        /// <summary>
        /// The containers a session changed, each with the time of its latest change. Its own lock and a class per change,
        /// no tuples or LINQ over them: framework code over such value types is compiled at run time in a one-shot process.
        /// </summary>
        private sealed class Changes
        {
            private readonly Dictionary<string, Change> _changed = new Dictionary<string, Change>(StringComparer.Ordinal);
            private readonly TimeProvider _time;

            public Changes(TimeProvider time) => _time = time;

            public void Add(string id, bool removed)
            {
                if (string.IsNullOrEmpty(id)) return;
                lock (_changed)
                {
                    _changed[id] = new Change(id, removed, _time.GetTimestamp());
                    // A warm session, whose own view answers, never reads the agent: its changes must not pile up meanwhile.
                    if (_changed.Count > 4 * EngineAgent.MostChanges) Forget(ChangesKept);
                }
            }

            /// <summary>The changes younger than <paramref name="kept"/>, the newest <paramref name="most"/>; older ones are forgotten.</summary>
            public List<KeyValuePair<string, bool>> Recent(TimeSpan kept, int most)
            {
                Change[] recent;
                lock (_changed)
                {
                    Forget(kept);
                    recent = new Change[_changed.Count];
                    _changed.Values.CopyTo(recent, 0);
                }
                Array.Sort(recent, NewestFirst);
                var sent = new List<KeyValuePair<string, bool>>(Math.Min(most, recent.Length));
                for (var i = 0; i < recent.Length && i < most; i++) sent.Add(new KeyValuePair<string, bool>(recent[i].Id, recent[i].Removed));
                return sent;
            }

            private static int NewestFirst(Change a, Change b) => b.At.CompareTo(a.At);

            private void Forget(TimeSpan kept)
            {
                List<string> old = null;
                foreach (var change in _changed.Values)
                {
                    if (_time.GetElapsedTime(change.At) > kept) (old ??= new List<string>()).Add(change.Id);
                }
                if (old == null) return;
                foreach (var id in old) _changed.Remove(id);
            }

            private sealed class Change
            {
                public Change(string id, bool removed, long at)
                {
                    Id = id;
                    Removed = removed;
                    At = at;
                }

                public string Id { get; }
                public bool Removed { get; }
                public long At { get; }
            }
        }
    }
}
