using System;
using System.IO;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.State;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    public class OwnerOnlyPermissionsTests
    {
        [Fact]
        public void Files_become_0600_and_folders_0700()
        {
            if (OperatingSystem.IsWindows()) return;
            var dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "dyadports-perm-" + Guid.NewGuid().ToString("N")));
            try
            {
                var file = Path.Combine(dir.FullName, "f");
                File.WriteAllText(file, "x");
                OwnerOnlyPermissions.Apply(file);
                OwnerOnlyPermissions.Apply(dir.FullName, directory: true);
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir.FullName));
            }
            finally
            {
                dir.Delete(true);
            }
        }

        [Fact]
        public void A_mode_that_cannot_be_set_fails_loudly_with_StateWriteFailed_not_an_IOException()
        {
            if (OperatingSystem.IsWindows()) return;
            var missing = Path.Combine(Path.GetTempPath(), "dyadports-perm-" + Guid.NewGuid().ToString("N"), "state.json");
            var e = Assert.Throws<DyadPortsException>(() => OwnerOnlyPermissions.Apply(missing));
            Assert.Equal(ErrorIds.StateWriteFailed, e.ErrorId);
            Assert.Equal(FailureCategory.WriteError, e.Category);
            Assert.Contains("0600", e.Message, StringComparison.Ordinal);
        }
    }
}
