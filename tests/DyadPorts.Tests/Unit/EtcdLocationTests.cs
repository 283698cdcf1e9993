using System.Linq;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Fleet;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    public sealed class EtcdLocationTests
    {
        [Fact]
        public void Several_endpoints_and_a_prefix()
        {
            var location = EtcdLocation.Parse("etcd://10.0.0.1:2379,Etcd-B.example:2380/team/a/");
            Assert.False(location.Tls);
            Assert.Equal(new[] { "10.0.0.1:2379", "etcd-b.example:2380" }, location.Endpoints.Select(e => e.ToString()));
            Assert.Equal("/team/a", location.Prefix);
            Assert.Equal("http://10.0.0.1:2379,http://etcd-b.example:2380", location.ConnectionString);
        }

        [Theory]
        [InlineData("etcd://127.0.0.1:2379")]
        [InlineData("etcd://127.0.0.1:2379/")]
        [InlineData("etcd://127.0.0.1:2379//")]
        public void Without_a_prefix_it_is_the_default(string text) => Assert.Equal(EtcdLocation.DefaultPrefix, EtcdLocation.Parse(text).Prefix);

        [Fact]
        public void Etcds_is_tls_and_ipv6_needs_brackets()
        {
            var location = EtcdLocation.Parse("ETCDS://[::1]:2379,a:1/p");
            Assert.True(location.Tls);
            Assert.Equal("https://[::1]:2379,https://a:1", location.ConnectionString);
            Assert.Equal("/p", location.Prefix);
        }

        [Theory]
        [InlineData("etcd://host")]                     // no port
        [InlineData("etcd://host:0")]
        [InlineData("etcd://host:65536")]
        [InlineData("etcd://host:x")]
        [InlineData("etcd://:2379")]
        [InlineData("etcd://a:1,,b:2")]
        [InlineData("etcd://::1:2379")]                 // IPv6 without brackets
        [InlineData("etcd://user:pw@host:2379")]        // credentials never in the URL
        [InlineData("etcd://host:2379/a/../b")]
        [InlineData("etcd://host:2379/a?x=1")]
        [InlineData("etcd://etcd^1:2379")]              // no host name the etcd client could parse
        [InlineData("etcd://a b:2379")]
        [InlineData("etcd://[not-v6]:2379")]
        [InlineData("/var/state.json")]                 // a path is not an etcd location
        public void Invalid_locations_are_StateLocationInvalid(string text)
        {
            var e = Assert.Throws<DyadPortsException>(() => EtcdLocation.Parse(text));
            Assert.Equal(ErrorIds.StateLocationInvalid, e.ErrorId);
            Assert.True(e.IsTerminating);
        }

        [Fact]
        public void An_unknown_scheme_is_refused_by_name()
        {
            var e = Assert.Throws<DyadPortsException>(() => EtcdLocation.Parse("consul://127.0.0.1:8500"));
            Assert.Equal(ErrorIds.StateLocationInvalid, e.ErrorId);
            Assert.Contains("'consul'", e.Message, System.StringComparison.Ordinal);
        }
    }
}
