using System;
using System.Collections.Generic;
using DyadPorts.Core.Engines;

namespace DyadPorts
{
    /// <summary>What Get-DyadPortAgent writes: a running agent as it reports itself, asked over its socket.</summary>
    public sealed class AgentInfo
    {
        /// <summary>The socket it was asked at.</summary>
        public string Path { get; init; }
        /// <summary>The agent's process (as the socket's peer credentials name it): stop it by this id.</summary>
        public int ProcessId { get; init; }
        /// <summary>When it began to listen.</summary>
        public DateTimeOffset StartedAt { get; init; }
        /// <summary>Requests answered with a view.</summary>
        public long Answered { get; init; }
        /// <summary>Requests answered with "list it yourself": a view not live or behind, too many endpoints, changes, askers or connections.</summary>
        public long Declined { get; init; }
        /// <summary>Connections from another user, refused unread.</summary>
        public long Refused { get; init; }
        /// <summary>Connections that ended before a whole request and answer: cut, malformed or timed out.</summary>
        public long Failed { get; init; }
        /// <summary>Containers inspected again because an asker said it changed them.</summary>
        public long ChangesInspected { get; init; }
        /// <summary>The endpoints whose views it keeps (retired ones left out).</summary>
        public IReadOnlyList<AgentEndpointInfo> Endpoints { get; init; } = Array.Empty<AgentEndpointInfo>();
    }

    /// <summary>One endpoint an agent follows, and its view.</summary>
    public sealed class AgentEndpointInfo
    {
        public string Endpoint { get; init; }
        public EngineKind Engine { get; init; }
        /// <summary>Whether its view answers now (live and not behind); otherwise askers list.</summary>
        public bool Live { get; init; }
        /// <summary>How many times its view listed the engine: once per (re)connection.</summary>
        public long Lists { get; init; }
        /// <summary>Engine calls its view made: its event stream, its lists and its inspects.</summary>
        public long EngineCalls { get; init; }
    }
}
