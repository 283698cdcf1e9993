using System;
using System.Collections.Generic;

namespace DyadPorts
{
    /// <summary>An app and how often it was moved off its port.</summary>
    public sealed class AppMoves
    {
        public string AppId { get; set; }
        public int Moves { get; set; }
        public override string ToString() => $"{AppId} ({Moves})";
    }

    /// <summary>
    /// A port range at a glance, from one engine snapshot: who holds what, and what happened lately. Data only: the
    /// cmdlet layer draws it (DyadPorts.Commands.PortUsageMap).
    /// </summary>
    public sealed class PortUsage
    {
        /// <summary>The map's letters, one per holder kind.</summary>
        public const char FreeCell = '.', AllocationCell = 'A', ContainerCell = 'C', HostCell = 'H';

        public DateTimeOffset At { get; set; }
        public string Range { get; set; }
        public int First { get; set; }
        public int Last { get; set; }
        public int Total { get; set; }
        public int Free { get; set; }
        public int HeldByAllocation { get; set; }
        public int HeldByContainer { get; set; }
        public int HeldByHost { get; set; }
        /// <summary>Every allocation of the state (not only those in the range), by status.</summary>
        public SortedDictionary<string, int> AllocationsByStatus { get; set; } = new SortedDictionary<string, int>(StringComparer.Ordinal);
        public int MovesLast24Hours { get; set; }
        public int RacesLostLast24Hours { get; set; }
        /// <summary>The apps moved most often in the last 24 hours, most first.</summary>
        public AppMoves[] TopMovers { get; set; } = Array.Empty<AppMoves>();
        /// <summary>The journal's counters since the state began, by event kind (monotonic).</summary>
        public SortedDictionary<string, long> EventCounts { get; set; } = new SortedDictionary<string, long>(StringComparer.Ordinal);
        /// <summary>One letter per port of the range, in order: '.' free, 'A' allocation, 'C' container, 'H' host process.</summary>
        public string Map { get; set; } = string.Empty;

        public override string ToString() => $"{Range}: {Free} of {Total} free";
    }
}
