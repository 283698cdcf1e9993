using System;
using System.Collections.Generic;
using System.Linq;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Fleet;
using DyadPorts.Tests.Support;
using Etcdserverpb;
using Google.Protobuf;
using Xunit;

namespace DyadPorts.Tests.Ledger
{
    /// <summary>
    /// The etcd history's bounds (<see cref="EtcdHistoryTrim"/>): by count, the newest are kept; by age, counted back from
    /// the trimming process's clock; nothing outside the history's prefix goes; a silent cluster costs a verbose line.
    /// </summary>
    public sealed partial class EtcdLedgerTests
    {
        /// <summary>Allocates each app once through a ledger: one history event each, stamped by this machine's clock.</summary>
        private void AllocateEach(params string[] appIds)
        {
            var ledger = Open();
            foreach (var appId in appIds) ledger.Transact((s, _) => Allocate(s, appId, 21870, 21889), NullOperationLog.Instance, default);
        }

        /// <summary>A history event as an operator wrote it at <paramref name="stamp"/> (an earlier day, or a clock of its own).</summary>
        private void PutEvent(DateTimeOffset stamp, string appId)
        {
            var raw = Raw();
            var key = new EtcdKeys(_prefix).HistoryEvent(stamp, "n" + appId, 0);
            var value = $"{{\"operator\":\"other@host\",\"nonce\":\"n{appId}\",\"event\":{{\"Kind\":\"Allocated\",\"AppId\":\"{appId}\",\"Port\":21899}}}}";
            raw.Retrying((c, d, t) => c.Put(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) }, null, d, t), raw.NewDeadline(), default);
        }

        /// <summary>The apps whose events the history holds, oldest key first.</summary>
        private List<string> HistoryApps() =>
            TestEtcd.Dump(Raw(), _prefix).Where(kv => kv.Key.StartsWith(_prefix + "/history/", StringComparison.Ordinal))
                .Select(kv => System.Text.RegularExpressions.Regex.Match(kv.Value, "\"appId\":\"([^\"]+)\"", System.Text.RegularExpressions.RegexOptions.IgnoreCase).Groups[1].Value).ToList();

        private List<string> KeysOutsideHistory() =>
            TestEtcd.Dump(Raw(), _prefix).Select(kv => kv.Key).Where(k => !k.StartsWith(_prefix + "/history/", StringComparison.Ordinal)).ToList();

        [Fact]
        public void History_past_the_count_limit_the_oldest_go_and_the_newest_stay()
        {
            AllocateEach("a1", "a2", "a3", "a4", "a5", "a6", "a7");
            var others = KeysOutsideHistory();
            Assert.Equal(7, HistoryApps().Count);

            var options = TestEtcd.Options();
            options.HistoryLimit = 4;
            EtcdHistoryTrim.Run(Raw(options), new EtcdKeys(_prefix), DateTimeOffset.UtcNow, NullOperationLog.Instance);

            Assert.Equal(new[] { "a4", "a5", "a6", "a7" }, HistoryApps());
            Assert.Equal(others, KeysOutsideHistory()); // the apps, their ports, the operator's counters: untouched
        }

        [Fact]
        public void History_past_the_age_limit_an_event_goes_counted_from_the_trimming_clock()
        {
            var now = DateTimeOffset.UtcNow;
            PutEvent(now - TimeSpan.FromDays(31), "month-old");
            PutEvent(now - TimeSpan.FromDays(29), "weeks-old");
            AllocateEach("today");
            var keys = new EtcdKeys(_prefix);

            EtcdHistoryTrim.Run(Raw(), keys, now, NullOperationLog.Instance);
            Assert.Equal(new[] { "weeks-old", "today" }, HistoryApps());

            // A clock two days ahead takes the 29-day-old event too: the age is the trimmer's (etcd has no clock to ask).
            EtcdHistoryTrim.Run(Raw(), keys, now + TimeSpan.FromDays(2), NullOperationLog.Instance);
            Assert.Equal(new[] { "today" }, HistoryApps());
        }

        [Fact]
        public void History_within_both_limits_loses_nothing()
        {
            PutEvent(DateTimeOffset.UtcNow - TimeSpan.FromDays(10), "older");
            AllocateEach("b1", "b2");
            var before = TestEtcd.Dump(Raw(), _prefix);

            EtcdHistoryTrim.Run(Raw(), new EtcdKeys(_prefix), DateTimeOffset.UtcNow, NullOperationLog.Instance);

            Assert.Equal(before, TestEtcd.Dump(Raw(), _prefix));
        }

        [Fact]
        public void A_history_trim_on_a_silent_cluster_costs_a_verbose_line_and_no_exception()
        {
            var options = TestEtcd.Options(timeout: TimeSpan.FromMilliseconds(500));
            using var silent = new EtcdConnection(EtcdLocation.Parse("etcd://127.0.0.1:20799/nowhere"), options);
            var log = new RecordingLog();

            EtcdHistoryTrim.Run(silent, new EtcdKeys("/nowhere"), DateTimeOffset.UtcNow, log);

            Assert.Contains(log.Verbose, m => m.StartsWith("The etcd history was not trimmed this time:", StringComparison.Ordinal));
        }
    }
}
