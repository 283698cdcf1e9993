using System.Collections.Generic;
using System.IO;
using DyadPorts.Core.Engines;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.State
{
    /// <summary>
    /// The configured-ports file under the state's file rules: a file that does not parse, or a link planted at its
    /// name, reads as empty (a verbose line, never an error) and the next save replaces it, never writing through a link.
    /// </summary>
    public sealed class ConfiguredPortsCacheFileTests
    {
        private const string Endpoint = "unix:///run/docker.sock";
        private static readonly Dictionary<string, IReadOnlyList<PublishedPort>> Entries = new Dictionary<string, IReadOnlyList<PublishedPort>>
        {
            [new string('a', 64)] = new[] { new PublishedPort(22320, null, 80, "tcp") },
        };

        [Fact]
        public void A_file_that_does_not_parse_reads_as_empty_and_the_next_save_replaces_it()
        {
            using var temp = new TempState();
            var cache = new ConfiguredPortsCache(temp.Directory, Endpoint);
            File.WriteAllText(cache.Path, ConfiguredPortsFormat.Header + "\nendpoint " + Endpoint + "\nxx 1,2\n");
            var log = new RecordingLog();
            Assert.Empty(cache.Load(log));
            Assert.Contains(log.Verbose, m => m.Contains(cache.Path, System.StringComparison.Ordinal));
            Assert.True(cache.Save(Entries, log));
            Assert.Equal(Entries.Keys, cache.Load(null).Keys);
        }

        [UnixFact]
        public void A_link_at_its_name_is_not_read_and_the_save_replaces_the_link_not_its_target()
        {
            using var temp = new TempState();
            var cache = new ConfiguredPortsCache(temp.Directory, Endpoint);
            var victim = temp.PlantLink(cache.Path);
            Assert.Empty(cache.Load(null));
            Assert.True(cache.Save(Entries, null));
            Assert.Equal("precious", File.ReadAllText(victim));
            Assert.Null(new FileInfo(cache.Path).LinkTarget);
            Assert.Equal(Entries.Keys, cache.Load(null).Keys);
        }

        [Fact]
        public void No_folder_reads_as_empty_and_creates_nothing()
        {
            using var temp = new TempState();
            var folder = Path.Combine(temp.Directory, "missing");
            Assert.Empty(new ConfiguredPortsCache(folder, Endpoint).Load(null));
            Assert.False(Directory.Exists(folder));
            Assert.True(new ConfiguredPortsCache(folder, Endpoint).Save(Entries, null));
            Assert.Equal(Entries.Keys, new ConfiguredPortsCache(folder, Endpoint).Load(null).Keys);
        }
    }
}
