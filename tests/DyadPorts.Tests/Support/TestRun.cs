using System;
using System.IO;
using System.Security.Cryptography;
using System.Text;

namespace DyadPorts.Tests.Support
{
    /// <summary>
    /// This test run's identity. Every container a test creates carries <see cref="Label"/>=<see cref="Id"/>, and
    /// every test AppId starts with <see cref="Prefix"/>; cleanup removes nothing else, so a user's previews and
    /// another run's containers survive. build.ps1 sets DYADPORTS_TEST_RUN to a fresh guid per run, shared with Pester.
    /// </summary>
    public static class TestRun
    {
        public const string Label = "dyadports.test-run";

        public static string Id { get; } = Environment.GetEnvironmentVariable("DYADPORTS_TEST_RUN") is string id && id.Length > 0
            ? id
            : Guid.NewGuid().ToString("N");

        /// <summary>'t' + 6 hex of SHA-256(Id) + '-', as tools/TestEnv.ps1 derives it: short enough for any AppId.</summary>
        public static string Prefix { get; } = string.Concat("t", Hex(SHA256.HashData(Encoding.UTF8.GetBytes(Id))).AsSpan(0, 6), "-");

        /// <summary>
        /// This run's temporary folder, &lt;temp&gt;/dyadports-tests/&lt;<see cref="Id"/>&gt;, as tools/TestEnv.ps1 names it
        /// (TempRoot): every temporary file and folder of a test of this run goes in it. build.ps1 removes it when the
        /// run ends, and the next run's reap when the run was killed (tools/test-runs.sh, its record's tmp= line).
        /// </summary>
        public static string TempRoot { get; } = Path.Combine(Path.GetTempPath(), "dyadports-tests", Id);

        /// <summary>
        /// A new folder of this run's, in <see cref="TempRoot"/>: <paramref name="kind"/>-&lt;16 hex digits&gt;, short
        /// enough that a unix socket in it stays within the 108 bytes of its path.
        /// </summary>
        public static string NewTempFolder(string kind) =>
            Directory.CreateDirectory(Path.Combine(TempRoot, $"{kind}-{Guid.NewGuid().ToString("N").AsSpan(0, 16)}")).FullName;

        /// <summary>A test AppId (or container name) of this run: <see cref="Prefix"/> + <paramref name="name"/>.</summary>
        public static string App(string name) => Prefix + name;

        private static string Hex(byte[] bytes) => Convert.ToHexString(bytes).ToLowerInvariant();
    }
}
