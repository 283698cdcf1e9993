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
    /// Where one command's state lives: a file (<see cref="Path"/>) or an etcd cluster (<see cref="Text"/>, the URL).
    /// Tells a state path from a state URL: anything of the form <c>scheme://</c> is a URL (a Windows drive path
    /// such as C:\x, C:/x or even C://x is not: a scheme has two letters at least); only etcd and etcds are known,
    /// and any other scheme is refused, never taken as a relative path.
    /// </summary>
    public sealed partial class StateLocation
    {
        [GeneratedRegex(@"^\s*([A-Za-z][A-Za-z0-9+.\-]+)://", RegexOptions.CultureInvariant)]
        private static partial Regex UrlScheme { get; }

        private StateLocation(StateLocationKind kind, string text)
        {
            Kind = kind;
            Text = text;
        }

        /// <summary><see cref="StateLocationKind.File"/> or <see cref="StateLocationKind.Etcd"/>; an unknown scheme never makes a location.</summary>
        public StateLocationKind Kind { get; }

        /// <summary>The path of a state file, or the etcd:// or etcds:// URL as given.</summary>
        public string Text { get; }

        /// <summary>The state file's path; null for a fleet state.</summary>
        public string Path => Kind == StateLocationKind.File ? Text : null;

        public bool IsEtcd => Kind == StateLocationKind.Etcd;

        public override string ToString() => Text;

        /// <summary>A location given as text (Copy-DyadPortState's -Source, -Destination): a path as given, or an etcd URL.</summary>
        public static StateLocation Of(string location)
        {
            switch (Classify(location))
            {
                case StateLocationKind.Etcd: return new StateLocation(StateLocationKind.Etcd, location.Trim());
                case StateLocationKind.Unknown: throw UnknownScheme(location);
                default: return new StateLocation(StateLocationKind.File, location);
            }
        }

        /// <summary>
        /// DYAD_PORTS_STATE as a location: a path as given, else the per-user default file (<see cref="StateStore.ResolvePath"/>),
        /// or an etcd URL; a URL of any other scheme is the terminating <see cref="ErrorIds.StateLocationInvalid"/>.
        /// </summary>
        public static StateLocation Resolve(Func<string, string> environment)
        {
            ArgumentNullException.ThrowIfNull(environment);
            var value = environment(StateStore.PathVariable);
            switch (Classify(value))
            {
                case StateLocationKind.Etcd: return new StateLocation(StateLocationKind.Etcd, value.Trim());
                case StateLocationKind.Unknown: throw UnknownScheme(value);
                default: return new StateLocation(StateLocationKind.File, StateStore.ResolvePath(environment));
            }
        }

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
                $"The state location '{location}' (DYAD_PORTS_STATE, or a -Source or -Destination of Copy-DyadPortState) is a URL of the scheme '{SchemeOf(location)}', which DyadPorts does not know. " +
                "Give a path for a state file, or etcd://host:port[,host:port...][/prefix] (etcds:// for TLS) for a fleet state on etcd.");

        /// <summary>The scheme of a URL location ("" for a path), for messages.</summary>
        public static string SchemeOf(string location)
        {
            var match = UrlScheme.Match(location ?? string.Empty);
            return match.Success ? match.Groups[1].Value : string.Empty;
        }
    }
}
