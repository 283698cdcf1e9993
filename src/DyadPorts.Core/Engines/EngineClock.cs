using System;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using DyadPorts.Core.Diagnostics;

namespace DyadPorts.Core.Engines
{
    /// <summary>
    /// The engine's clock as this machine sees it: this machine's time plus the offset the engine's own answer showed.
    /// An events stream's <c>since=</c> and a catch-up's <c>until=</c> are read by the engine against its clock, and an
    /// engine's clock may be seconds or minutes off this machine's (a podman machine or Docker Desktop VM after the host
    /// slept, a remote host without NTP). podman drops live events older than <c>since=</c>: a since= in its future
    /// would leave the view blind to every change until its clock caught up.
    /// </summary>
    public sealed class EngineClock
    {
        /// <summary>How far a heard event may lie ahead of <see cref="Now"/> before the offset is known wrong (the engine's clock jumped).</summary>
        public static readonly TimeSpan Tolerance = TimeSpan.FromSeconds(2);

        private readonly TimeProvider _local;

        /// <param name="local">This machine's clock.</param>
        /// <param name="offset">The engine's time minus this machine's.</param>
        /// <param name="uncertainty">How far the offset may be off either way: half the answer's round trip (the engine stamps its time somewhere in it).</param>
        /// <param name="known">False when the engine did not say its time: the offset is then zero, and nothing is judged ahead.</param>
        public EngineClock(TimeProvider local, TimeSpan offset, TimeSpan uncertainty, bool known = true)
        {
            _local = local ?? throw new ArgumentNullException(nameof(local));
            Offset = offset;
            Uncertainty = uncertainty;
            Known = known;
        }

        /// <summary>The engine's time minus this machine's: positive when the engine is ahead.</summary>
        public TimeSpan Offset { get; }

        /// <summary>Half the round trip of the answer the offset was read from: the engine's time is <see cref="Now"/> give or take this.</summary>
        public TimeSpan Uncertainty { get; }

        /// <summary>Whether the engine said its time; when it did not (refused, too slow, no SystemTime), this machine's is assumed.</summary>
        public bool Known { get; }

        /// <summary>An engine assumed to keep this machine's time.</summary>
        public static EngineClock Unknown(TimeProvider local) => new EngineClock(local, TimeSpan.Zero, TimeSpan.Zero, known: false);

        /// <summary>The engine's time now, as well as this machine can tell.</summary>
        public DateTimeOffset Now => _local.GetUtcNow() + Offset;

        /// <summary>
        /// The offset from one answer: the engine said <paramref name="engineSaid"/> between <paramref name="asked"/> and
        /// <paramref name="answered"/> (this machine's times), taken as said halfway.
        /// </summary>
        public static TimeSpan OffsetOf(DateTimeOffset asked, DateTimeOffset engineSaid, DateTimeOffset answered) =>
            engineSaid - (asked + TimeSpan.FromTicks((answered - asked).Ticks / 2));

        /// <summary>The engine's <c>SystemTime</c> (RFC 3339, nanoseconds), or null when it is missing or not a time.</summary>
        public static DateTimeOffset? ParseSystemTime(string text) =>
            DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : (DateTimeOffset?)null;

        /// <summary>
        /// Whether an event the engine stamped <paramref name="timeNano"/> (Unix nanoseconds, its clock) lies ahead of
        /// <see cref="Now"/> by more than <see cref="Tolerance"/>: the engine's clock has moved ahead since the offset was
        /// read, and catch-ups up to <see cref="Now"/> would end before what they are for. A late event lies behind, never ahead.
        /// </summary>
        public bool IsAhead(long timeNano) =>
            Known && timeNano > 0 && DateTimeOffset.FromUnixTimeMilliseconds(timeNano / 1_000_000) - Now > Tolerance + Uncertainty;

        /// <summary>
        /// Reads the engine's clock once (<c>GET /info</c>, bounded like a ping). An engine that does not say its time (a
        /// proxy that refuses /info, an answer without SystemTime or that cannot be read, no answer within the bound) is
        /// taken to keep this machine's (<see cref="Unknown"/>): the view then works as it did before it read clocks, and
        /// an engine that cannot be reached at all fails its stream and list next. Only <paramref name="cancellationToken"/> ends it.
        /// </summary>
        public static async Task<EngineClock> Read(ContainerEngine engine, TimeProvider local, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(engine);
            ArgumentNullException.ThrowIfNull(local);
            var asked = local.GetUtcNow();
            string said;
            try
            {
                said = await engine.SystemTimeAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (DyadPortsException) when (!cancellationToken.IsCancellationRequested)
            {
                return Unknown(local);
            }
            var answered = local.GetUtcNow();
            return ParseSystemTime(said) is DateTimeOffset engineSaid
                ? new EngineClock(local, OffsetOf(asked, engineSaid, answered), TimeSpan.FromTicks(Math.Max(0, (answered - asked).Ticks) / 2))
                : Unknown(local);
        }
    }
}
