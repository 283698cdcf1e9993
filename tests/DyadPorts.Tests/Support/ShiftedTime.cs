using System;
using System.Threading;

namespace DyadPorts.Tests.Support
{
    /// <summary>
    /// This machine's clock set off the real one by <see cref="Shift"/> (which a test may change at any time): an engine
    /// whose clock lags this machine's by a minute is, to the code under test, this machine's clock a minute ahead.
    /// </summary>
    public sealed class ShiftedTime : TimeProvider
    {
        private long _shiftTicks;

        public ShiftedTime(TimeSpan shift) => Shift = shift;

        public TimeSpan Shift
        {
            get => TimeSpan.FromTicks(Interlocked.Read(ref _shiftTicks));
            set => Interlocked.Exchange(ref _shiftTicks, value.Ticks);
        }

        public override DateTimeOffset GetUtcNow() => TimeProvider.System.GetUtcNow() + Shift;
    }
}
