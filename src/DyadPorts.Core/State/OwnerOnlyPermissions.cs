using System.Runtime.InteropServices;

namespace DyadPorts.Core.State
{
    /// <summary>chmod through libc: netstandard2.0 has no File.SetUnixFileMode.</summary>
    internal static class OwnerOnlyPermissions
    {
        [DllImport("libc", EntryPoint = "chmod", SetLastError = true)]
        private static extern int Chmod(string path, int mode);

        /// <summary>0600 for files, 0700 for folders; nothing on Windows, where the profile folder is private already.</summary>
        public static void Apply(string path, bool directory = false)
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) return;
            Chmod(path, directory ? 0x1C0 /* 0700 */ : 0x180 /* 0600 */);
        }
    }
}
