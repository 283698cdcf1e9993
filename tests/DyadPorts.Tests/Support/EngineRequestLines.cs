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
    }
}
