using System.Text.RegularExpressions;

namespace DyadPorts.Core.Allocation
{
    /// <summary>The one rule for app ids, and the names derived from them.</summary>
    public static partial class AppIds
    {
        public const string Pattern = "^[A-Za-z0-9][A-Za-z0-9_.-]*\\z";
        public const int MaxLength = 63;
        public const string ContainerNamePrefix = "dyad-app-";
        /// <summary>Generated at build (and so compiled ahead of time with the module): a cold process parses no pattern.</summary>
        [GeneratedRegex(Pattern, RegexOptions.CultureInvariant)]
        private static partial Regex Valid { get; }

        /// <summary>Null when valid, else why not.</summary>
        public static string Problem(string appId)
        {
            if (string.IsNullOrEmpty(appId)) return "an AppId must not be empty.";
            if (appId.Length > MaxLength) return $"an AppId has at most {MaxLength} characters; this one has {appId.Length}.";
            if (!Valid.IsMatch(appId)) return $"an AppId starts with a letter or digit and holds only letters, digits, '_', '.' and '-' ({Pattern}).";
            return null;
        }

        public static string ContainerName(string appId) => ContainerNamePrefix + appId;

        /// <summary>The AppId a dyad-app-&lt;id&gt; container name stands for, or null.</summary>
        public static string FromContainerName(string name)
        {
            if (name == null) return null;
            name = name.TrimStart('/');
            return name.StartsWith(ContainerNamePrefix, System.StringComparison.Ordinal) ? name.Substring(ContainerNamePrefix.Length) : null;
        }
    }
}
