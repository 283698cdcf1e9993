using System;
using System.ComponentModel;
using System.IO;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace DyadPorts.Core.State
{
    /// <summary>What fstat says about an open file or a directory: its type, mode bits and owner.</summary>
    internal readonly struct UnixFileInfo
    {
        public UnixFileInfo(int mode, int ownerId, long links)
        {
            Mode = mode;
            OwnerId = ownerId;
            Links = links;
        }

        public int Mode { get; }
        public int OwnerId { get; }
        /// <summary>Hard links to the file: more than one means the same file has another name somewhere.</summary>
        public long Links { get; }
        public bool IsRegularFile => (Mode & 0xF000) == 0x8000;
        public bool IsDirectory => (Mode & 0xF000) == 0x4000;
        public bool IsSocket => (Mode & 0xF000) == 0xC000;
        public bool OthersCanWrite => (Mode & 0x12) != 0; // group or other write
        public bool IsSticky => (Mode & 0x200) != 0;
        public string Octal => Convert.ToString(Mode & 0xFFF, 8).PadLeft(4, '0');
    }

    /// <summary>
    /// The few libc calls the state files need on Linux and macOS: open without following symlinks
    /// (O_NOFOLLOW itself, not an lstat before the open, which would race), exclusive creation, fchmod and
    /// fstat on the open descriptor, and flock. .NET takes its own advisory lock only when it opens a file
    /// by path, so a descriptor from <see cref="Open"/> is locked with <see cref="TryLock"/> explicitly.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Globalization", "CA2101", Justification = "Paths are marshalled explicitly as UTF-8 (LPUTF8Str), which is what libc takes on Linux and macOS.")]
    internal static partial class UnixFiles
    {
        private static readonly bool IsMac = RuntimeInformation.IsOSPlatform(OSPlatform.OSX);
        private static readonly bool IsArm = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 || RuntimeInformation.ProcessArchitecture == Architecture.Arm;

        public static bool Supported => !RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

        public static int ReadWrite => 2;
        public static int ReadOnly => 0;
        public static int Create => IsMac ? 0x200 : 0x40;
        public static int Exclusive => IsMac ? 0x800 : 0x80;
        public static int Truncate => IsMac ? 0x400 : 0x200;
        public static int Append => IsMac ? 0x8 : 0x400;
        private static int NoFollow => IsMac ? 0x100 : IsArm ? 0x8000 : 0x20000;
        private static int CloseOnExec => IsMac ? 0x1000000 : 0x80000;
        public static int ErrorLoop => IsMac ? 62 : 40;
        public static int ErrorWouldBlock => IsMac ? 35 : 11;
        public const int ErrorNotFound = 2;
        /// <summary>O_NONBLOCK: a FIFO planted in place of a file must not block the open (under the state lock).</summary>
        public static int NonBlocking => IsMac ? 0x4 : 0x800;
        private const int ErrorInterrupted = 4;
        private const int LockExclusive = 2;
        private const int LockNonBlocking = 4;

        // open(2) is variadic: int open(const char *path, int oflag, ...). P/Invoke cannot declare varargs on Unix, and
        // where variadic arguments travel differently from named ones, a plain (path, flags, mode) declaration passes
        // the mode in the wrong place. Linux x64 (System V) and Linux arm64 (AAPCS64) pass variadic arguments exactly
        // like named ones, so the plain declaration is right there (and on macOS x64, where %al only bounds the vector
        // registers a variadic callee saves). Apple arm64 passes every variadic argument on the stack, in 8-byte slots,
        // while the first eight named integer arguments go in x0-x7: its declaration fills x2-x7 with padding so that
        // the mode, as a 64-bit value, is the ninth argument and lands in the first stack slot, where open's va_arg
        // reads it. (.NET's own System.Native uses a C shim for this; DyadPorts ships no native code. The layout is
        // checked by reading Apple's "Writing ARM64 code for Apple platforms", since linux-x64 CI cannot run it.)
        [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        private static partial int SysOpen(string path, int flags, int mode);

        [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        private static partial int SysOpenAppleArm64(string path, int flags, long x2, long x3, long x4, long x5, long x6, long x7, long mode);

        private static readonly bool VariadicOnStack = IsMac && RuntimeInformation.ProcessArchitecture == Architecture.Arm64;

        private static int OpenRaw(string path, int flags, int mode) =>
            VariadicOnStack ? SysOpenAppleArm64(path, flags, 0, 0, 0, 0, 0, 0, mode) : SysOpen(path, flags, mode);

        [LibraryImport("libc", EntryPoint = "dup", SetLastError = true)]
        private static partial int SysDup(SafeFileHandle fd);

        [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
        private static partial int SysFchmod(SafeFileHandle fd, int mode);

        [LibraryImport("libc", EntryPoint = "chmod", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        private static partial int SysChmod(string path, int mode);

        [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
        private static partial int SysFlock(SafeFileHandle fd, int operation);

        [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
        private static partial int SysFsync(SafeFileHandle fd);

        [LibraryImport("libc", EntryPoint = "rename", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        private static partial int SysRename(string from, string to);

        [LibraryImport("libc", EntryPoint = "geteuid")]
        private static partial int SysGeteuid();

        [LibraryImport("libc", EntryPoint = "fstat", SetLastError = true)]
        private static partial int SysFstat(SafeFileHandle fd, [Out] byte[] buffer);

        [LibraryImport("libc", EntryPoint = "__fxstat", SetLastError = true)]
        private static partial int SysFxstat(int version, SafeFileHandle fd, [Out] byte[] buffer);

        [LibraryImport("libc", EntryPoint = "fstat$INODE64", SetLastError = true)]
        private static partial int SysFstatMacX64(SafeFileHandle fd, [Out] byte[] buffer);

        public static int EffectiveUserId => SysGeteuid();

        /// <summary>Opens without following a symlink at the last component; -1 and the errno on failure.</summary>
        public static SafeFileHandle Open(string path, int flags, int mode, out int errno)
        {
            while (true)
            {
                var fd = OpenRaw(path, flags | NoFollow | CloseOnExec, mode);
                if (fd >= 0)
                {
                    errno = 0;
                    return new SafeFileHandle((IntPtr)fd, ownsHandle: true);
                }
                errno = Marshal.GetLastPInvokeError();
                if (errno != ErrorInterrupted) return null;
            }
        }

        /// <summary>
        /// A second descriptor of the same open file that, unlike every descriptor DyadPorts opens, is not close-on-exec:
        /// a child started while it is open inherits it (dup(2) never copies FD_CLOEXEC). The caller closes it at once
        /// after the start.
        /// </summary>
        public static SafeFileHandle DuplicateInheritable(SafeFileHandle handle)
        {
            while (true)
            {
                var fd = SysDup(handle);
                if (fd >= 0) return new SafeFileHandle((IntPtr)fd, ownsHandle: true);
                var errno = Marshal.GetLastPInvokeError();
                if (errno != ErrorInterrupted) throw new IOException($"dup failed: {new Win32Exception(errno).Message}", errno);
            }
        }

        /// <summary>An exclusive flock that does not wait; false when another open file description holds it.</summary>
        public static bool TryLock(SafeFileHandle handle)
        {
            while (true)
            {
                if (SysFlock(handle, LockExclusive | LockNonBlocking) == 0) return true;
                var errno = Marshal.GetLastPInvokeError();
                if (errno == ErrorWouldBlock) return false;
                if (errno != ErrorInterrupted) throw new IOException($"flock failed: {new Win32Exception(errno).Message}", errno);
            }
        }

        public static void SetMode(SafeFileHandle handle, int mode)
        {
            if (SysFchmod(handle, mode) != 0) throw new IOException($"fchmod {Convert.ToString(mode, 8)} failed: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
        }

        public static void SetMode(string path, int mode)
        {
            if (SysChmod(path, mode) != 0) throw new IOException($"chmod {Convert.ToString(mode, 8)} '{path}' failed: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
        }

        public static void Sync(SafeFileHandle handle)
        {
            if (SysFsync(handle) != 0) throw new IOException($"fsync failed: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
        }

        /// <summary>rename(2): atomic, and it replaces a symlink at <paramref name="to"/> rather than writing through it.</summary>
        public static void Rename(string from, string to)
        {
            if (SysRename(from, to) != 0) throw new IOException($"rename '{from}' to '{to}' failed: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
        }

        /// <summary>Type, mode and owner of an open descriptor; null on a platform whose stat layout is not known here.</summary>
        public static UnixFileInfo? Stat(SafeFileHandle handle)
        {
            var buffer = new byte[512];
            int result;
            if (IsMac)
            {
                result = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? SysFstatMacX64(handle, buffer) : SysFstat(handle, buffer);
                if (result != 0) throw new IOException($"fstat failed: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
                // struct stat (64-bit inodes): dev_t(4) mode_t(2) nlink_t(2) ino_t(8) uid_t(4)
                return new UnixFileInfo(BitConverter.ToUInt16(buffer, 4), BitConverter.ToInt32(buffer, 16), BitConverter.ToUInt16(buffer, 6));
            }
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux)) return null;
            var arch = RuntimeInformation.ProcessArchitecture;
            if (arch != Architecture.X64 && arch != Architecture.Arm64) return null;
            try
            {
                result = SysFstat(handle, buffer);
            }
            catch (EntryPointNotFoundException)
            {
                // glibc before 2.33 exports only the versioned wrapper.
                result = SysFxstat(arch == Architecture.X64 ? 1 : 0, handle, buffer);
            }
            if (result != 0) throw new IOException($"fstat failed: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
            // x86_64: dev(8) ino(8) nlink(8) mode(4) uid(4); arm64 (generic): dev(8) ino(8) mode(4) nlink(4) uid(4)
            return arch == Architecture.X64
                ? new UnixFileInfo(BitConverter.ToInt32(buffer, 24), BitConverter.ToInt32(buffer, 28), BitConverter.ToInt64(buffer, 16))
                : new UnixFileInfo(BitConverter.ToInt32(buffer, 16), BitConverter.ToInt32(buffer, 24), BitConverter.ToUInt32(buffer, 20));
        }

        /// <summary>
        /// Stat of a directory (following symlinks: a parent may well be a link, like /var/run). On Linux it is opened
        /// with O_PATH, so a folder we may not read is still checked. Null when it cannot be opened (the caller refuses).
        /// </summary>
        public static UnixFileInfo? StatDirectory(string path, out int errno)
        {
            var directory = IsMac ? 0x100000 : IsArm ? 0x4000 : 0x10000;
            var pathOnly = IsMac ? 0 : 0x200000; // O_PATH
            return StatOpened(path, directory | pathOnly | CloseOnExec, out errno);
        }

        /// <summary>
        /// Stat of whatever a path names, not following a final symlink (Linux: O_PATH | O_NOFOLLOW, which opens a socket
        /// or a link as well as a file). Null when nothing is there or it cannot be opened; <paramref name="errno"/> says which.
        /// </summary>
        public static UnixFileInfo? StatEntry(string path, out int errno) => StatOpened(path, 0x200000 | NoFollow | CloseOnExec, out errno);

        /// <summary>Opens <paramref name="path"/> with <paramref name="flags"/> (again when interrupted), stats it, closes it.</summary>
        private static UnixFileInfo? StatOpened(string path, int flags, out int errno)
        {
            while (true)
            {
                var fd = OpenRaw(path, flags, 0);
                if (fd >= 0)
                {
                    errno = 0;
                    using (var handle = new SafeFileHandle((IntPtr)fd, ownsHandle: true))
                    {
                        return Stat(handle);
                    }
                }
                errno = Marshal.GetLastPInvokeError();
                if (errno != ErrorInterrupted) return null;
            }
        }

        public static string Describe(int errno) => new Win32Exception(errno).Message;
    }
}
