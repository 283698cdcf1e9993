using System;
using System.Globalization;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Previews
{
    /// <summary>What the idle reaper makes of one preview's sample.</summary>
    public enum IdleVerdict
    {
        /// <summary>Nothing to compare with yet (first sample, new preview, another signal, a 0.2.0 sample): the sample starts a run.</summary>
        Baseline,
        /// <summary>Used since the last sample, or a client is attached: the sample starts a new run.</summary>
        Busy,
        /// <summary>Unused since the run began, for less than the idle time.</summary>
        Quiet,
        /// <summary>Unused since the run began, for at least the idle time: stop it.</summary>
        Idle,
    }

    /// <summary>The verdict, the sample to keep as the app's run, and why, in words.</summary>
    public sealed class IdleJudgement
    {
        public IdleJudgement(IdleVerdict verdict, ActivitySample keep, string reason)
        {
            Verdict = verdict;
            Keep = keep;
            Reason = reason;
        }

        public IdleVerdict Verdict { get; }
        public ActivitySample Keep { get; }
        public string Reason { get; }
    }

    /// <summary>
    /// The idle reaper's decision table, pure: a preview's previous sample (the start of its quiet run) and a new
    /// one give a verdict. The first sample is only a baseline, so the readiness probe's own request (made before
    /// it) never counts as use; only later changes do. When in doubt the preview is kept.
    /// </summary>
    public static class IdleJudge
    {
        /// <summary>
        /// With transmitted bytes (the fallback), a rise of at most this many bytes between two samples is no use. Three
        /// 42-byte ARP frames (the neighbour probe a container sends about 5 s after its last exchange, and its answers to
        /// neighbours' requests) stay under it, as does one 86-byte IPv6 neighbour solicitation with one ARP frame; serving
        /// a request sends at least a 74-byte SYN-ACK and a data segment of 66 bytes or more, over it. Background traffic
        /// above it counts as use: the preview is kept.
        /// </summary>
        public const long QuietBytes = 128;

        public static IdleJudgement Judge(ActivitySample previous, ActivitySample current, TimeSpan idleFor)
        {
            ArgumentNullException.ThrowIfNull(current);
            if (previous == null) return Start(IdleVerdict.Baseline, current, "first sample, a baseline: only later changes count");
            if (!string.Equals(previous.Preview, current.Preview, StringComparison.Ordinal))
            {
                return Start(IdleVerdict.Baseline, current, "a new preview since the last sample; this sample is its baseline");
            }
            if (!string.Equals(previous.Signal, current.Signal, StringComparison.Ordinal))
            {
                return Start(IdleVerdict.Baseline, current, previous.Signal == null
                    ? "the last sample was written by DyadPorts 0.2.0 and measured something else; this sample is a new baseline"
                    : $"the last sample measured {Describe(previous.Signal)}, this one {Describe(current.Signal)}; this sample is a new baseline");
            }
            if (current.Attached > 0)
            {
                return Start(IdleVerdict.Busy, current, $"{current.Attached} open connection(s) to its port: a client is attached, so it is busy");
            }
            var change = Change(previous, current, out var uncertain);
            if (uncertain) return Start(IdleVerdict.Baseline, current, change + "; this sample is a new baseline");
            if (change != null) return Start(IdleVerdict.Busy, current, change + ", so it is busy");

            var quietFor = current.At - previous.At;
            var keep = new ActivitySample { At = previous.At, Preview = previous.Preview, Signal = current.Signal, Value = current.Value, Attached = current.Attached };
            return quietFor >= idleFor
                ? new IdleJudgement(IdleVerdict.Idle, keep, $"idle for {Format(quietFor)} (no use since {previous.At.ToString("u", CultureInfo.InvariantCulture)})")
                : new IdleJudgement(IdleVerdict.Quiet, keep, $"no use for {Format(quietFor)}, less than {Format(idleFor)}");
        }

        /// <summary>How the signal moved since the run began, in words; null for no use.</summary>
        private static string Change(ActivitySample previous, ActivitySample current, out bool uncertain)
        {
            uncertain = false;
            if (current.Signal == ActivitySample.ConnectionsSignal)
            {
                return string.Equals(previous.Value, current.Value, StringComparison.Ordinal) ? null
                    : $"its connections changed since the last sample ({Shown(previous.Value)} -> {Shown(current.Value)})";
            }
            if (!long.TryParse(previous.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var before) ||
                !long.TryParse(current.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var after) || after < before)
            {
                uncertain = true;
                return $"{Describe(current.Signal)} went from '{previous.Value}' to '{current.Value}'";
            }
            var delta = after - before;
            if (current.Signal == ActivitySample.BytesSignal)
            {
                return delta <= QuietBytes ? null : $"it sent {delta} bytes since the last sample, more than the {QuietBytes} that neighbour probes stay under";
            }
            return delta == 0 ? null : $"it accepted {delta} connection(s) since the last sample";
        }

        private static ActivitySample Copy(ActivitySample s) =>
            new ActivitySample { At = s.At, Preview = s.Preview, Signal = s.Signal, Value = s.Value, Attached = s.Attached };

        private static IdleJudgement Start(IdleVerdict verdict, ActivitySample current, string reason) => new IdleJudgement(verdict, Copy(current), reason);

        private static string Describe(string signal) => signal switch
        {
            ActivitySample.AcceptedSignal => "accepted connections",
            ActivitySample.BytesSignal => "transmitted bytes",
            ActivitySample.ConnectionsSignal => "the connections to the port",
            null => "nothing known",
            _ => signal,
        };

        private static string Shown(string value) => string.IsNullOrEmpty(value) ? "none" : value;

        public static string Format(TimeSpan span) => span.ToString(span.TotalHours >= 1 ? @"h\:mm\:ss" : @"m\:ss", CultureInfo.InvariantCulture);
    }
}
