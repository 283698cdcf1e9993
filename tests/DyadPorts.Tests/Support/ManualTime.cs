using System;
using System.Threading;

namespace DyadPorts.Tests.Support
{
    /// <summary>
    /// A clock that moves only when the test says (<see cref="Advance"/>): a limit of seconds is tested on both sides of
    /// its edge without waiting for it. Its timestamps count in <see cref="TimeProvider.TimestampFrequency"/> (the
    /// system's), from an arbitrary start.
    /// </summary>
    public sealed class ManualTime : TimeProvider
    {
        private static readonly DateTimeOffset Start = new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
        private long _elapsedTicks; // TimeSpan ticks since Start

        public void Advance(TimeSpan by)
        {
            if (by < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(by), "A clock that only moves forward.");
            Interlocked.Add(ref _elapsedTicks, by.Ticks);
        }

        private TimeSpan Elapsed => TimeSpan.FromTicks(Interlocked.Read(ref _elapsedTicks));

        public override DateTimeOffset GetUtcNow() => Start + Elapsed;

        // One second past the start of the timestamp scale: a timestamp of 0 means "none" to some callers.
        public override long GetTimestamp() => TimestampFrequency + (long)((Int128)Elapsed.Ticks * TimestampFrequency / TimeSpan.TicksPerSecond);
    }
}
