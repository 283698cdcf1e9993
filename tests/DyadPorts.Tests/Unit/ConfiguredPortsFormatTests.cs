using System.Collections.Generic;
using System.Linq;
using DyadPorts.Core.Engines;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary>The text of the configured-ports file (<see cref="ConfiguredPortsFormat"/>) and what a save keeps (<see cref="ConfiguredPortsCache.Kept"/>).</summary>
    public class ConfiguredPortsFormatTests
    {
        private const string Endpoint = "unix:///run/docker.sock";
        private static readonly string IdA = new string('a', 64);
        private static readonly string IdB = new string('b', 64);
        private static readonly string IdC = new string('c', 64);

        private static Dictionary<string, IReadOnlyList<PublishedPort>> Sample() => new Dictionary<string, IReadOnlyList<PublishedPort>>
        {
            [IdA] = new[] { new PublishedPort(22300, null, 80, "tcp"), new PublishedPort(22301, "127.0.0.1", 8080, "tcp"), new PublishedPort(22302, "::1", 53, "udp") },
            [IdB] = System.Array.Empty<PublishedPort>(), // configured with no bindings: still an answer, so no inspect next time
            [IdC] = new[] { new PublishedPort(22303, "fe80::1%eth0", 9000, "sctp") },
        };

        private static string[] Describe(IReadOnlyDictionary<string, IReadOnlyList<PublishedPort>> entries) =>
            entries.OrderBy(e => e.Key, System.StringComparer.Ordinal).Select(e => e.Key + "=" + string.Join(";", e.Value.Select(p => p.ToString()))).ToArray();

        [Fact]
        public void Entries_round_trip_with_several_bindings_host_ips_and_protocols()
        {
            var text = ConfiguredPortsFormat.Format(Endpoint, Sample());
            var read = ConfiguredPortsFormat.Parse(text, Endpoint, out var problem);
            Assert.Null(problem);
            Assert.Equal(Describe(Sample()), Describe(read));
            Assert.Equal(3, read[IdA].Count);
            Assert.Equal("udp", read[IdA][2].Protocol);
            Assert.Equal("::1", read[IdA][2].HostIp);
            Assert.Null(read[IdA][0].HostIp);
            Assert.Equal(8080, read[IdA][1].ContainerPort);
        }

        [Fact]
        public void No_entries_round_trip_to_none()
        {
            var read = ConfiguredPortsFormat.Parse(ConfiguredPortsFormat.Format(Endpoint, new Dictionary<string, IReadOnlyList<PublishedPort>>()), Endpoint, out var problem);
            Assert.Null(problem);
            Assert.Empty(read);
        }

        public static IEnumerable<object[]> Unusable()
        {
            var good = ConfiguredPortsFormat.Format(Endpoint, Sample());
            yield return new object[] { "empty", "" };
            yield return new object[] { "cut before the end line", good.Substring(0, good.LastIndexOf("end ", System.StringComparison.Ordinal)) };
            yield return new object[] { "cut mid-line", good.Substring(0, good.Length - 3) };
            yield return new object[] { "a line lost", string.Join("\n", good.Split('\n').Where((_, i) => i != 3)) };
            yield return new object[] { "another version", good.Replace(ConfiguredPortsFormat.Header, "dyadports-engine-ports 3", System.StringComparison.Ordinal) };
            yield return new object[] { "version 1, which may hold a created container as one without bindings", good.Replace(ConfiguredPortsFormat.Header, "dyadports-engine-ports 1", System.StringComparison.Ordinal) };
            yield return new object[] { "another endpoint", good.Replace(Endpoint, "unix:///run/podman/podman.sock", System.StringComparison.Ordinal) };
            yield return new object[] { "a port out of range", good.Replace("22300,80", "70000,80", System.StringComparison.Ordinal) };
            yield return new object[] { "a binding of three fields", good.Replace("22300,80,tcp,*", "22300,80,tcp", System.StringComparison.Ordinal) };
            yield return new object[] { "a repeated id", good.Replace(IdC, IdB, System.StringComparison.Ordinal) };
            yield return new object[] { "CRLF line ends", good.Replace("\n", "\r\n", System.StringComparison.Ordinal) };
            yield return new object[] { "JSON", "{\"a\":1}\n" };
        }

        [Theory, MemberData(nameof(Unusable))]
        public void A_corrupt_partial_or_foreign_text_is_no_file(string why, string text)
        {
            Assert.Null(ConfiguredPortsFormat.Parse(text, Endpoint, out var problem));
            Assert.False(string.IsNullOrEmpty(problem), why);
        }

        [Fact]
        public void An_entry_that_cannot_be_written_as_tokens_is_left_out_not_written_broken()
        {
            var entries = Sample();
            entries["bad id"] = new[] { new PublishedPort(22304, null, 80, "tcp") };
            entries[new string('d', 64)] = new[] { new PublishedPort(22305, "a,b", 80, "tcp") };
            var read = ConfiguredPortsFormat.Parse(ConfiguredPortsFormat.Format(Endpoint, entries), Endpoint, out var problem);
            Assert.Null(problem);
            Assert.Equal(Describe(Sample()), Describe(read));
        }

        [Fact]
        public void A_save_keeps_only_listed_ids_and_adds_what_memory_resolved()
        {
            var stored = Sample();
            var resolved = new Dictionary<string, IReadOnlyList<PublishedPort>> { ["new"] = new[] { new PublishedPort(22306, null, 80, "tcp") }, ["unlisted"] = System.Array.Empty<PublishedPort>() };
            var kept = ConfiguredPortsCache.Kept(stored, resolved, new HashSet<string> { IdA, "new" }, out var changed);
            Assert.True(changed);
            Assert.Equal(new[] { IdA, "new" }.OrderBy(i => i, System.StringComparer.Ordinal), kept.Keys.OrderBy(i => i, System.StringComparer.Ordinal));
            Assert.Equal(Describe(stored.Where(e => e.Key == IdA).ToDictionary(e => e.Key, e => e.Value)), Describe(kept.Where(e => e.Key == IdA).ToDictionary(e => e.Key, e => e.Value)));
        }

        [Fact]
        public void A_save_is_needed_only_when_an_entry_is_added_or_pruned()
        {
            var stored = Sample();
            var all = new HashSet<string>(stored.Keys);
            ConfiguredPortsCache.Kept(stored, stored.Where(e => e.Key == IdA), all, out var same);
            Assert.False(same);
            ConfiguredPortsCache.Kept(stored, new Dictionary<string, IReadOnlyList<PublishedPort>>(), new HashSet<string> { IdA, IdB }, out var pruned);
            Assert.True(pruned);
            ConfiguredPortsCache.Kept(stored, new Dictionary<string, IReadOnlyList<PublishedPort>> { ["new"] = System.Array.Empty<PublishedPort>() }, new HashSet<string>(all) { "new" }, out var added);
            Assert.True(added);
        }

        [Fact]
        public void The_file_name_is_the_endpoints_hash_and_differs_by_endpoint()
        {
            var docker = ConfiguredPortsCache.FileName(Endpoint);
            Assert.Matches("^engine-ports-[0-9a-f]{16}\\.txt$", docker);
            Assert.Equal(docker, ConfiguredPortsCache.FileName(Endpoint));
            Assert.NotEqual(docker, ConfiguredPortsCache.FileName("unix:///run/podman/podman.sock"));
        }
    }
}
