using System;

namespace DyadPorts.Tests.Support
{
    /// <summary>This test run's identity: every container it creates carries its label, every AppId its prefix.</summary>
    public static class TestRun
    {
        public const string Label = "dyadports.test-run";
        public static readonly string Id = Environment.GetEnvironmentVariable("DYADPORTS_TEST_RUN") is string id && id.Length > 0 ? id : Guid.NewGuid().ToString("N");
        public static readonly string Prefix = string.Concat("t", Id.Replace("-", "", StringComparison.Ordinal).AsSpan(0, 6), "-");
        public static string App(string name) => Prefix + name;
    }
}
