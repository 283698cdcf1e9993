using System;
using System.IO;
using DyadPorts.Core.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace DyadPorts.Core.State
{
    /// <summary>
    /// The rules for every file DyadPorts keeps beside its state, wherever DYAD_PORTS_STATE points (a shared
    /// /tmp included): never follow a symlink, never touch a file of another user, never trust a folder others
    /// can write unless it has the sticky bit, and set permissions on the open descriptor, not on the path.
    /// </summary>
    internal static class SafeFiles
    {
        public const int OwnerOnly = 0x180;       // 0600
        public const int OwnerOnlyFolder = 0x1C0; // 0700

        /// <summary>
        /// Opens <paramref name="path"/> (Unix only) and checks what was opened. Null when it does not exist and
        /// <paramref name="flags"/> does not create it. A folder is returned only when <paramref name="allowFolder"/>.
        /// </summary>
        public static SafeFileHandle OpenOwned(string path, int flags, string what, bool allowFolder = false)
        {
            var handle = UnixFiles.Open(path, flags, OwnerOnly, out var errno);
            if (handle == null)
            {
                if (errno == UnixFiles.ErrorNotFound && (flags & UnixFiles.Create) == 0) return null;
                if (errno == UnixFiles.ErrorLoop) throw Unsafe(path, $"the {what} '{path}' is a symbolic link. DyadPorts never opens its files through links, which could make it change another file");
                throw new DyadPortsException(ErrorIds.StateWriteFailed, FailureCategory.WriteError, path, $"Could not open the {what} '{path}': {UnixFiles.Describe(errno)}.");
            }
            try
            {
                var info = UnixFiles.Stat(handle);
                if (info == null) throw Unsafe(path, $"the {what} '{path}' cannot be checked on this platform");
                if (info is UnixFileInfo i)
                {
                    if (i.IsDirectory && allowFolder) return handle;
                    if (!i.IsRegularFile) throw Unsafe(path, $"the {what} '{path}' is not a regular file");
                    if (i.OwnerId != UnixFiles.EffectiveUserId)
                        throw Unsafe(path, $"the {what} '{path}' belongs to user id {i.OwnerId}, not to you (user id {UnixFiles.EffectiveUserId})");
                    if (i.Links > 1)
                        throw Unsafe(path, $"the {what} '{path}' has {i.Links} hard links, so it is also another file of yours under another name");
                    if ((i.Mode & 0x1FF) != OwnerOnly && (flags & (UnixFiles.ReadWrite | 1)) != 0) UnixFiles.SetMode(handle, OwnerOnly);
                }
                return handle;
            }
            catch (IOException e)
            {
                handle.Dispose();
                throw new DyadPortsException(ErrorIds.StateWriteFailed, FailureCategory.WriteError, path, $"Could not secure the {what} '{path}': {e.Message}", e);
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }

        /// <summary>
        /// The whole file's bytes under the rules of <see cref="OpenOwned"/> (opened O_NONBLOCK, so a FIFO planted in its
        /// place is refused at once); null when it does not exist, or, with <paramref name="isFolder"/>, when a folder
        /// stands in its place and <paramref name="allowFolder"/> says so.
        /// </summary>
        public static byte[] ReadOwned(string path, string what, bool allowFolder, out bool isFolder)
        {
            isFolder = false;
            if (!UnixFiles.Supported)
            {
                if (allowFolder && Directory.Exists(path)) { isFolder = true; return null; }
                return File.Exists(path) ? File.ReadAllBytes(path) : null;
            }
            using (var handle = OpenOwned(path, UnixFiles.ReadOnly | UnixFiles.NonBlocking, what, allowFolder))
            {
                if (handle == null) return null;
                if (allowFolder && UnixFiles.Stat(handle) is UnixFileInfo info && info.IsDirectory) { isFolder = true; return null; }
                using (var stream = new FileStream(handle, FileAccess.Read, 4096))
                using (var copy = new MemoryStream())
                {
                    stream.CopyTo(copy);
                    return copy.ToArray();
                }
            }
        }

        /// <summary>
        /// Creates the state folder 0700 when missing (mkdir with that mode, never a chmod through the path). Refuses
        /// a folder that belongs to another user (other than root), one that others can write without the sticky
        /// bit, and one that cannot be checked.
        /// </summary>
        public static void EnsureFolder(string folder)
        {
            if (string.IsNullOrEmpty(folder)) return;
            try
            {
                if (!Directory.Exists(folder))
                {
                    if (!OperatingSystem.IsWindows()) Directory.CreateDirectory(folder, (UnixFileMode)OwnerOnlyFolder);
                    else Directory.CreateDirectory(folder);
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is ArgumentException || e is NotSupportedException)
            {
                throw new DyadPortsException(ErrorIds.StateWriteFailed, FailureCategory.WriteError, folder, $"Could not create the DyadPorts state folder '{folder}': {e.Message}", e);
            }
            if (!UnixFiles.Supported) return;
            var stat = UnixFiles.StatDirectory(folder, out var errno);
            if (!(stat is UnixFileInfo info))
            {
                throw Unsafe(folder, $"the state folder '{folder}' cannot be checked ({(errno == 0 ? "unknown platform" : UnixFiles.Describe(errno))})");
            }
            if (info.OwnerId != UnixFiles.EffectiveUserId && info.OwnerId != 0)
            {
                throw Unsafe(folder, $"the state folder '{folder}' belongs to user id {info.OwnerId}, who could remove or swap DyadPorts' files in it. Point DYAD_PORTS_STATE at a folder of your own");
            }
            if (info.OthersCanWrite && !info.IsSticky)
            {
                throw Unsafe(folder, $"the state folder '{folder}' (mode {info.Octal}) can be written by other users and lacks the sticky bit, so they could swap DyadPorts' files. " +
                                     "Point DYAD_PORTS_STATE at a folder of your own, or add the sticky bit (chmod +t)");
            }
        }

        public static DyadPortsException Unsafe(string path, string why) =>
            new DyadPortsException(ErrorIds.StateFileUnsafe, FailureCategory.SecurityError, path, $"{why}. Nothing was read or changed.");
    }
}
