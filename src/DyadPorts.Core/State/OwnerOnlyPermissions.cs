using System;
using System.IO;
using DyadPorts.Core.Diagnostics;

namespace DyadPorts.Core.State
{
    /// <summary>Keeps the state, its lock and its folder private to the user: 0600 for files, 0700 for folders.</summary>
    internal static class OwnerOnlyPermissions
    {
        private const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        private const UnixFileMode DirectoryMode = FileMode | UnixFileMode.UserExecute;

        /// <summary>
        /// Sets the mode, or throws StateWriteFailed: a state file others could read or write is never left behind silently.
        /// Nothing on Windows, where the profile folder is private already.
        /// </summary>
        public static void Apply(string path, bool directory = false)
        {
            if (OperatingSystem.IsWindows()) return;
            try
            {
                File.SetUnixFileMode(path, directory ? DirectoryMode : FileMode);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                // Not an IOException: the lock's retry loop must not take this for "another process holds it".
                throw new DyadPortsException(ErrorIds.StateWriteFailed, FailureCategory.WriteError, path,
                    $"Could not make '{path}' private to its owner (mode {(directory ? "0700" : "0600")}): {e.Message}. " +
                    "Nothing was written. Point DYAD_PORTS_STATE at a file on a file system with Unix permissions that you own.", e);
            }
        }
    }
}
