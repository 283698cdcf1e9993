using System.Text.RegularExpressions;

namespace DyadPorts.Tests.Support
{
    /// <summary>Request lines an engine proxy (<see cref="HoldingEngineProxy"/>) sees, for tests that hold or count them.</summary>
    public static class EngineRequestLines
    {
        /// <summary>The list (GET /containers/json), not an inspect.</summary>
        public static readonly Regex List = new Regex(@"^GET /[^ ]*containers/json", RegexOptions.CultureInvariant);

        /// <summary>An inspect (GET /containers/{id}/json), not the list.</summary>
        public static readonly Regex Inspect = new Regex(@"^GET /[^ ]*containers/[^/ ?]+/json", RegexOptions.CultureInvariant);

        /// <summary>A view's catch-up: an events query bounded by until=, not its stream.</summary>
        public static readonly Regex CatchUp = new Regex(@"^GET /[^ ]*events\?[^ ]*until=", RegexOptions.CultureInvariant);

        private static readonly Regex Until = new Regex(@"[?&]until=([0-9]+(?:\.[0-9]+)?)", RegexOptions.CultureInvariant);

        /// <summary>
        /// How long until a catch-up's until= (Unix seconds, the engine's clock: this machine's for the test engines) has
        /// passed, and a tenth of a second more; zero for a request line without one.
        /// </summary>
        public static System.TimeSpan PastUntil(string requestLine)
        {
            var until = Until.Match(requestLine ?? string.Empty);
            if (!until.Success) return System.TimeSpan.Zero;
            var at = System.DateTimeOffset.UnixEpoch + System.TimeSpan.FromSeconds(double.Parse(until.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            var left = at - System.DateTimeOffset.UtcNow + System.TimeSpan.FromMilliseconds(100);
            return left > System.TimeSpan.Zero ? left : System.TimeSpan.Zero;
        }
    }
}
