using System;
using System.Collections.Generic;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Fleet;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary>The fleet's connection settings as <see cref="EtcdOptions.FromEnvironment"/> reads them from a given environment.</summary>
    public sealed class EtcdOptionsTests
    {
        private static EtcdOptions Read(params (string Name, string Value)[] variables)
        {
            var environment = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (name, value) in variables) environment[name] = value;
            return EtcdOptions.FromEnvironment(n => environment.TryGetValue(n, out var v) ? v : null, "op@machine", "machine");
        }

        [Fact]
        public void Unset_the_lease_ttl_is_ten_seconds()
        {
            Assert.Equal(TimeSpan.FromSeconds(10), Read().LeaseTtl);
            Assert.Equal(TimeSpan.FromSeconds(10), Read((EtcdOptions.LeaseTtlVariable, "  ")).LeaseTtl);
        }

        [Theory]
        [InlineData("1", 1)]
        [InlineData("3", 3)]
        [InlineData(" 15 ", 15)]
        public void The_lease_ttl_is_whole_seconds_from_one_to_fifteen(string text, int seconds) =>
            Assert.Equal(TimeSpan.FromSeconds(seconds), Read((EtcdOptions.LeaseTtlVariable, text)).LeaseTtl);

        [Theory]
        [InlineData("0")]
        [InlineData("16")]
        [InlineData("-3")]
        [InlineData("2.5")]
        [InlineData("3s")]
        [InlineData("ten")]
        public void Any_other_lease_ttl_is_refused_naming_the_variable(string text)
        {
            var e = Assert.Throws<DyadPortsException>(() => Read((EtcdOptions.LeaseTtlVariable, text)));
            Assert.Equal(ErrorIds.StateLocationInvalid, e.ErrorId);
            Assert.Equal(FailureCategory.InvalidArgument, e.Category);
            Assert.Equal(text.Trim(), e.Target);
            Assert.Contains(EtcdOptions.LeaseTtlVariable, e.Message, StringComparison.Ordinal);
            Assert.Contains("between 1 and 15", e.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void The_lease_ttl_does_not_change_the_call_bound()
        {
            var options = Read((EtcdOptions.LeaseTtlVariable, "3"), (EtcdOptions.TimeoutVariable, "4"));
            Assert.Equal(TimeSpan.FromSeconds(3), options.LeaseTtl);
            Assert.Equal(TimeSpan.FromSeconds(4), options.Timeout);
        }
    }
}
