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
        /// A failure is <see cref="ErrorIds.StateReadFailed"/> for a read-only open, <see cref="ErrorIds.StateWriteFailed"/>
        /// otherwise; an unsafe file is <see cref="ErrorIds.StateFileUnsafe"/> either way.
        /// </summary>
        public static SafeFileHandle OpenOwned(string path, int flags, string what, bool allowFolder = false)
        {
            var handle = UnixFiles.Open(path, flags, OwnerOnly, out var errno);
            if (handle == null)
            {
                if (errno == UnixFiles.ErrorNotFound && (flags & UnixFiles.Create) == 0) return null;
                if (errno == UnixFiles.ErrorLoop) throw Unsafe(path, $"the {what} '{path}' is a symbolic link. DyadPorts never opens its files through links, which could make it change another file");
                throw Failed(path, flags, $"Could not open the {what} '{path}': {UnixFiles.Describe(errno)}.", null);
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
                    if ((i.Mode & 0x1FF) != OwnerOnly && Writes(flags)) UnixFiles.SetMode(handle, OwnerOnly);
                }
                return handle;
            }
            catch (IOException e)
            {
                handle.Dispose();
                throw Failed(path, flags, $"Could not secure the {what} '{path}': {e.Message}", e);
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }

        /// <summary>A stream over a handle from <see cref="OpenOwned"/>; the handle is disposed if the stream cannot be made.</summary>
        public static FileStream Stream(SafeFileHandle handle, FileAccess access)
        {
            try
            {
                return new FileStream(handle, access, 1);
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
        /// stands in its place and <paramref name="allowFolder"/> says so. Fails with <see cref="ErrorIds.StateReadFailed"/>
        /// or <see cref="ErrorIds.StateFileUnsafe"/>.
        /// </summary>
        public static byte[] ReadOwned(string path, string what, bool allowFolder, out bool isFolder)
        {
            isFolder = false;
            try
            {
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
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw Failed(path, UnixFiles.ReadOnly, $"Could not read the {what} '{path}': {e.Message}", e);
            }
        }

        /// <summary>
        /// A new file of ours (O_CREAT|O_EXCL|O_NOFOLLOW, 0600) with <paramref name="bytes"/>, synced: a backup. Nothing
        /// that already stands at <paramref name="path"/>, file or link, is ever written through.
        /// </summary>
        public static void CreateOwned(string path, byte[] bytes, string what)
        {
            try
            {
                if (!UnixFiles.Supported)
                {
                    using (var plain = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                    {
                        plain.Write(bytes, 0, bytes.Length);
                        plain.Flush(true);
                    }
                    return;
                }
                using (var stream = Stream(OpenOwned(path, WriteOnly | UnixFiles.Create | UnixFiles.Exclusive, what), FileAccess.Write))
                {
                    stream.Write(bytes, 0, bytes.Length);
                    stream.Flush(true);
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw Failed(path, WriteOnly, $"Could not write the {what} '{path}': {e.Message}", e);
            }
        }

        /// <summary>
        /// Replaces <paramref name="path"/> atomically: a new temp file beside it (O_EXCL|O_NOFOLLOW, so nothing planted at
        /// the temp name is written through) given <paramref name="mode"/> on its descriptor, synced, then renamed over the
        /// path (rename replaces a symlink there rather than writing through it). A reader sees the whole old or the whole
        /// new file. On failure the temp file is removed, the old file is left as it was, and the error has
        /// <paramref name="errorId"/> (a <see cref="ErrorIds.StateFileUnsafe"/> passes as it is).
        /// </summary>
        public static void ReplaceAtomically(string path, byte[] bytes, int mode, string what, string errorId)
        {
            var folder = Path.GetDirectoryName(path) ?? ".";
            var temp = Path.Combine(folder, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N") + ".tmp");
            try
            {
                if (UnixFiles.Supported)
                {
                    using (var handle = OpenOwned(temp, WriteOnly | UnixFiles.Create | UnixFiles.Exclusive, "temporary " + what))
                    {
                        UnixFiles.SetMode(handle, mode);
                        using (var stream = new FileStream(handle, FileAccess.Write, 1))
                        {
                            stream.Write(bytes, 0, bytes.Length);
                            stream.Flush();
                            UnixFiles.Sync(handle);
                        }
                    }
                    UnixFiles.Rename(temp, path);
                    return;
                }
                using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    stream.Write(bytes, 0, bytes.Length);
                    stream.Flush(true);
                }
                if (File.Exists(path)) File.Replace(temp, path, null);
                else File.Move(temp, path);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is DyadPortsException)
            {
                try { File.Delete(temp); } catch (Exception) { /* best effort: a stray temp file is harmless */ }
                if (e is DyadPortsException d && d.ErrorId == ErrorIds.StateFileUnsafe) throw;
                throw new DyadPortsException(errorId, FailureCategory.WriteError, path,
                    $"Could not write the {what} '{path}': {(e is DyadPortsException inner ? inner.Message : e.Message)} The previous file was left as it was.", e);
            }
        }

        private const int WriteOnly = 1; // O_WRONLY, the same on Linux and macOS

        private static bool Writes(int flags) => (flags & (UnixFiles.ReadWrite | WriteOnly)) != 0 || (flags & UnixFiles.Create) != 0;

        private static DyadPortsException Failed(string path, int flags, string message, Exception inner) => Writes(flags)
            ? new DyadPortsException(ErrorIds.StateWriteFailed, FailureCategory.WriteError, path, message, inner)
            : new DyadPortsException(ErrorIds.StateReadFailed, FailureCategory.ReadError, path, message, inner);

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
