using System;
using System.IO;

namespace DyadPorts.Tests.Support
{
    /// <summary>Files under tests/DyadPorts.Tests/Fixtures, read from the source tree (they are never rewritten).</summary>
    public static class Fixtures
    {
        public static string PathOf(params string[] parts)
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir != null && !File.Exists(Path.Combine(dir.FullName, "DyadPorts.sln"))) dir = dir.Parent;
            if (dir == null) throw new InvalidOperationException("DyadPorts.sln not found above " + AppContext.BaseDirectory);
            return Path.Combine(Path.Combine(dir.FullName, "tests", "DyadPorts.Tests", "Fixtures"), Path.Combine(parts));
        }
    }
}
