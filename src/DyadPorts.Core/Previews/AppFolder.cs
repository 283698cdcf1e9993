using System.Text.RegularExpressions;

namespace DyadPorts.Core.Previews
{
    /// <summary>
    /// An app folder as a remote engine's host names it. This machine can neither resolve nor check such a path: a
    /// relative one has no meaning there (the engine has no current location of the user's), and one of this machine's
    /// own forms (a PowerShell drive, C:\ for /) is not the host's. So it is taken as given, and only an absolute one.
    /// </summary>
    public static partial class AppFolder
    {
        /// <summary>Whether <paramref name="path"/> is absolute on a Unix host (/srv/app) or a Windows one (C:\app, C:/app, \\server\share\...).</summary>
        public static bool IsAbsoluteOnAnyHost(string path) => !string.IsNullOrEmpty(path) && AbsolutePath().IsMatch(path);

        [GeneratedRegex(@"\A(?:/|[A-Za-z]:[\\/]|\\\\[^\\/]+\\[^\\/]+)", RegexOptions.CultureInvariant)]
        private static partial Regex AbsolutePath();
    }
}
