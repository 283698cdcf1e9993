using System;
using System.Text.RegularExpressions;
using DyadPorts.Core.Diagnostics;

namespace DyadPorts.Core.State
{
    /// <summary>What kind of place a DYAD_PORTS_STATE value names.</summary>
    public enum StateLocationKind
    {
        /// <summary>A path: the JSON state file.</summary>
        File,
        /// <summary>etcd:// or etcds://: the fleet state on an etcd cluster.</summary>
        Etcd,
        /// <summary>A URL of a scheme DyadPorts does not know: refused, never taken as a relative path.</summary>
        Unknown,
    }

    /// <summary>
    /// Tells a state path from a state URL. Anything of the form <c>scheme://</c> is a URL (a Windows drive path
    /// such as C:\x, C:/x or even C://x is not: a scheme has two letters at least); only etcd and etcds are known.
    /// </summary>
    public static class StateLocation
    {
        private static readonly Regex UrlScheme = new Regex(@"^\s*([A-Za-z][A-Za-z0-9+.\-]+)://", RegexOptions.CultureInvariant);

        public static StateLocationKind Classify(string location)
        {
            if (string.IsNullOrWhiteSpace(location)) return StateLocationKind.File;
            var match = UrlScheme.Match(location);
            if (!match.Success) return StateLocationKind.File;
            var scheme = match.Groups[1].Value;
            return scheme.Equals("etcd", StringComparison.OrdinalIgnoreCase) || scheme.Equals("etcds", StringComparison.OrdinalIgnoreCase)
                ? StateLocationKind.Etcd
                : StateLocationKind.Unknown;
        }

        /// <summary>The error for a location of <see cref="StateLocationKind.Unknown"/> kind.</summary>
        public static DyadPortsException UnknownScheme(string location) =>
            new DyadPortsException(ErrorIds.StateLocationInvalid, FailureCategory.InvalidArgument, location,
                $"DYAD_PORTS_STATE '{location}' is a URL of the scheme '{SchemeOf(location)}', which DyadPorts does not know. " +
                "Give a path for a state file, or etcd://host:port[,host:port...][/prefix] (etcds:// for TLS) for a fleet state on etcd.");

        /// <summary>The scheme of a URL location ("" for a path), for messages.</summary>
        public static string SchemeOf(string location)
        {
            var match = UrlScheme.Match(location ?? string.Empty);
            return match.Success ? match.Groups[1].Value : string.Empty;
        }
    }
}
