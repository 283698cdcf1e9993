using System;
using Xunit;

namespace DyadPorts.Tests.Support
{
    /// <summary>A fact that only means something on Linux or macOS: on Windows it is reported as skipped, never as passed.</summary>
    [AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
    public sealed class UnixFactAttribute : FactAttribute
    {
        public UnixFactAttribute()
        {
            if (OperatingSystem.IsWindows()) Skip = "needs a Unix host (POSIX programs and file modes); this is Windows";
        }
    }
}
