using DyadPorts.Core.Previews;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary>A remote engine's app folder is taken as given, and only an absolute one, on a Unix or a Windows host.</summary>
    public sealed class AppFolderTests
    {
        [Theory]
        [InlineData("/srv/apps/web")]
        [InlineData("/")]
        [InlineData(@"C:\apps\web")]
        [InlineData("c:/apps/web")]
        [InlineData(@"\\fileserver\apps\web")]
        public void An_absolute_path_on_a_unix_or_windows_host_is_taken(string path) => Assert.True(AppFolder.IsAbsoluteOnAnyHost(path));

        [Theory]
        [InlineData("web")]
        [InlineData("./web")]
        [InlineData("../apps/web")]
        [InlineData("~/web")]
        [InlineData("C:web")] // relative to drive C's own current folder
        [InlineData(@"\apps\web")] // relative to the current drive
        [InlineData(@"\\")]
        [InlineData(@"\\fileserver")] // a server, no share
        [InlineData("")]
        [InlineData(null)]
        public void A_path_that_needs_a_current_location_or_drive_is_not(string path) => Assert.False(AppFolder.IsAbsoluteOnAnyHost(path));
    }
}
