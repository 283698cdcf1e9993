using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using DyadPorts.Core.Diagnostics;

namespace DyadPorts.Infrastructure
{
    /// <summary>
    /// The -AppId wildcards of a listing command, each checked before anything is read: one that is not a valid pattern
    /// ("web[") is its own non-terminating InvalidAppIdPattern error and matches nothing, and the others still list.
    /// No pattern given matches every app; patterns given that are all invalid match none. A command at the end of a
    /// pipeline that brought no AppId at all (a filter that matched nothing) matches none, as a cmdlet whose
    /// ProcessRecord never ran writes nothing: never every app.
    /// </summary>
    internal sealed class AppIdPatterns
    {
        private readonly List<WildcardPattern> _patterns;
        private readonly bool _given;

        private AppIdPatterns(List<WildcardPattern> patterns, bool given)
        {
            _patterns = patterns;
            _given = given;
        }

        /// <param name="appIds">The AppIds given, on the command line or down the pipeline.</param>
        /// <param name="expectingInput">Whether the command is fed by a pipeline (<see cref="InvocationInfo.ExpectingInput"/>).</param>
        public static AppIdPatterns Of(IReadOnlyCollection<string> appIds, bool expectingInput, Action<DyadPortsException> invalid)
        {
            var patterns = new List<WildcardPattern>();
            foreach (var id in appIds)
            {
                var pattern = new WildcardPattern(id, WildcardOptions.IgnoreCase);
                try
                {
                    pattern.IsMatch(string.Empty); // parsed on first use: an invalid pattern throws here, not mid-listing
                    patterns.Add(pattern);
                }
                catch (WildcardPatternException e)
                {
                    invalid(new DyadPortsException(ErrorIds.InvalidAppIdPattern, FailureCategory.InvalidArgument, id,
                        $"'{id}' is not a valid wildcard pattern: {e.Message} Put a backtick before [ or ] to match it literally."));
                }
            }
            return new AppIdPatterns(patterns, appIds.Count > 0 || expectingInput);
        }

        /// <summary>False when patterns were given and none of them is valid: nothing can match.</summary>
        public bool CanMatch => !_given || _patterns.Count > 0;

        public bool Matches(string appId) => !_given || (appId != null && _patterns.Any(p => p.IsMatch(appId)));
    }
}
