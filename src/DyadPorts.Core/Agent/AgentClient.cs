using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;

namespace DyadPorts.Core.Agent
{
    /// <summary>
    /// A session's way to the agent at one socket path (<see cref="EngineAgent"/>): asks for an endpoint's view where the
    /// session has none live, with the containers the session changed since the agent last answered it. No socket there
    /// costs a stat; an agent that does not answer within <see cref="AnswerTimeout"/>, answers another user's, or speaks
    /// another protocol is not asked again by this session, and the caller lists, as without an agent.
    /// </summary>
    public sealed class AgentClient
    {
        /// <summary>How long a session waits for the agent's answer before it lists instead.</summary>
        public static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(1);

        private readonly ConcurrentDictionary<ContainerEngine, Changes> _changes = new ConcurrentDictionary<ContainerEngine, Changes>();
        private volatile string _silentBecause;

        public AgentClient(string socketPath)
        {
            SocketPath = socketPath ?? throw new ArgumentNullException(nameof(socketPath));
        }

        public string SocketPath { get; }

        /// <summary>The agent's view of <paramref name="engine"/>'s endpoint, or null (the caller lists).</summary>
        public EngineSnapshot Read(ContainerEngine engine, EngineKind kind, IOperationLog log)
        {
            ArgumentNullException.ThrowIfNull(engine);
            ArgumentNullException.ThrowIfNull(log);
            if (_silentBecause != null || !File.Exists(SocketPath)) return null;
            var changes = _changes.GetOrAdd(engine, Watch);
            var sent = changes.Take();
            AgentAnswer answer;
            try
            {
                answer = Ask(new AgentRequest
                {
                    Endpoint = engine.Endpoint,
                    Kind = kind,
                    TlsFolder = engine.Tls == null ? null : Path.GetDirectoryName(engine.Tls.CaPath),
                    TlsSource = engine.Tls?.Source,
                    Changed = sent,
                });
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
            {
                changes.Return(sent);
                log.Verbose($"No DyadPorts agent listens at {SocketPath} (a socket nobody answers at); listing.");
                return null;
            }
            catch (Exception e) when (e is SocketException || e is IOException || e is InvalidDataException || e is UnauthorizedAccessException)
            {
                changes.Return(sent);
                _silentBecause = e.Message;
                log.Verbose($"The DyadPorts agent at {SocketPath} did not answer ({e.Message}); listing, and not asking it again in this session.");
                return null;
            }
            catch (AgentRefusedException e)
            {
                changes.Return(sent);
                _silentBecause = e.Message;
                log.Warning($"Not asking the process at {SocketPath}: {e.Message}");
                return null;
            }
            if (answer.Containers == null)
            {
                changes.Return(sent);
                log.Verbose($"The DyadPorts agent at {SocketPath} did not lend its view: {answer.Reason}; listing.");
                return null;
            }
            log.Verbose($"Engine {kind} at {engine.Endpoint}: {answer.Containers.Count} container(s) in the view of the DyadPorts agent at {SocketPath} (every event it heard applied within {ViewTiming.FreshnessBound.TotalMilliseconds} ms; {sent.Count} change(s) of this session's inspected first).");
            return new EngineSnapshot(answer.Containers);
        }

        private AgentAnswer Ask(AgentRequest request)
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.ReceiveTimeout = socket.SendTimeout = (int)AnswerTimeout.TotalMilliseconds;
            socket.Connect(new UnixDomainSocketEndPoint(SocketPath));
            var peer = AgentSocket.PeerUserId(socket);
            if (peer != State.UnixFiles.EffectiveUserId) throw new AgentRefusedException($"it runs as user {peer}, not as this one ({State.UnixFiles.EffectiveUserId}).");
            using var stream = new NetworkStream(socket, ownsSocket: false);
            AgentWire.WriteFrame(stream, AgentWire.Encode(request));
            return AgentWire.DecodeAnswer(AgentWire.ReadFrame(stream));
        }

        private static Changes Watch(ContainerEngine engine)
        {
            var changes = new Changes();
            engine.ContainerChanged += changes.Add;
            return changes;
        }

        /// <summary>The containers a session changed that the agent has not confirmed yet: the latest change of each.</summary>
        private sealed class Changes
        {
            private readonly ConcurrentDictionary<string, bool> _pending = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);

            public void Add(string id, bool removed)
            {
                if (!string.IsNullOrEmpty(id)) _pending[id] = removed;
            }

            public List<KeyValuePair<string, bool>> Take()
            {
                var taken = new List<KeyValuePair<string, bool>>();
                foreach (var id in _pending.Keys.ToList())
                {
                    if (_pending.TryRemove(id, out var removed)) taken.Add(new KeyValuePair<string, bool>(id, removed));
                }
                return taken;
            }

            /// <summary>Puts back what the agent did not confirm, unless the session changed the container again meanwhile.</summary>
            public void Return(List<KeyValuePair<string, bool>> taken)
            {
                foreach (var change in taken) _pending.TryAdd(change.Key, change.Value);
            }
        }

        private sealed class AgentRefusedException : Exception
        {
            public AgentRefusedException(string message) : base(message)
            {
            }
        }
    }
}
