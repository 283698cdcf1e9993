using System;
using System.IO;

namespace DyadPorts.Tests.Support
{
    /// <summary>The checkout the tests were built from: the folder above the test binaries that holds DyadPorts.sln.</summary>
    public static class RepoFiles
    {
        public static string Root
        {
            get
            {
                var dir = new DirectoryInfo(AppContext.BaseDirectory);
                while (dir != null && !File.Exists(Path.Combine(dir.FullName, "DyadPorts.sln"))) dir = dir.Parent;
                return dir?.FullName ?? throw new InvalidOperationException("DyadPorts.sln not found above " + AppContext.BaseDirectory);
            }
        }
    }
}
