using System;
using DyadPorts.Core.Previews;
using DyadPorts.Core.State;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary>The idle reaper's pure parts: /proc text parsing, the cgroup check and the judge's decision table (issue 16).</summary>
    public sealed class IdleReaperJudgingTests
    {
        private const string ContainerId = "f851e394bd88366c14434863b575b11a6cab9f4854c35d0aa5614eb7cd4a7eee";

        private const string Snmp =
            "Ip: Forwarding DefaultTTL InReceives InHdrErrors\n" +
            "Ip: 1 64 120 0\n" +
            "Icmp: InMsgs InErrors\n" +
            "Icmp: 0 0\n" +
            "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors\n" +
            "Tcp: 1 200 120000 -1 3 17 0 0 4 90 88 0 0 0 0\n" +
            "Udp: InDatagrams NoPorts InErrors OutDatagrams\n" +
            "Udp: 0 0 0 0\n";

        // Port 0x54F0 = 21744. Listener, two clients attached (one IPv4, one IPv6 below), one in TIME_WAIT, and an
        // outgoing connection to a database on 5432 (0x1538) from local port 0xC350: the last is not a client.
        private const string Tcp =
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
            "   0: 00000000:54F0 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0000000000000000 100 0 0 10 0\n" +
            "   1: 020011AC:54F0 010011AC:9C40 01 00000000:00000000 00:00000000 00000000     0        0 1002 1 0000000000000000 20 4 30 10 -1\n" +
            "   2: 020011AC:54F0 010011AC:9C41 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000\n" +
            "   3: 020011AC:C350 030011AC:1538 01 00000000:00000000 00:00000000 00000000     0        0 1003 1 0000000000000000 20 4 30 10 -1\n";

        private const string Tcp6 =
            "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
            "   0: 00000000000000000000000000000000:54F0 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2001 1 0000000000000000 100 0 0 10 0\n" +
            "   1: 0000000000000000FFFF0000020011AC:54F0 0000000000000000FFFF0000010011AC:9C42 01 00000000:00000000 00:00000000 00000000     0        0 2002 1 0000000000000000 20 4 30 10 -1\n";

        [Fact]
        public void PassiveOpens_is_read_by_its_column_name_from_the_Tcp_values_line()
        {
            Assert.Equal(17L, ProcNetText.PassiveOpens(Snmp));
            Assert.Equal(5L, ProcNetText.PassiveOpens("Tcp: PassiveOpens ActiveOpens\nTcp: 5 9\n"));
            Assert.Null(ProcNetText.PassiveOpens("Tcp: RtoAlgorithm ActiveOpens\nTcp: 1 3\n"));
            Assert.Null(ProcNetText.PassiveOpens("Tcp: RtoAlgorithm PassiveOpens\n"));
            Assert.Null(ProcNetText.PassiveOpens("Tcp: RtoAlgorithm PassiveOpens\nTcp: 1 x\n"));
            Assert.Null(ProcNetText.PassiveOpens(""));
            Assert.Null(ProcNetText.PassiveOpens(null));
        }

        [Fact]
        public void Only_established_connections_to_the_port_count_in_tcp_and_tcp6()
        {
            Assert.Equal(1, ProcNetText.EstablishedTo(Tcp, 21744));
            Assert.Equal(1, ProcNetText.EstablishedTo(Tcp6, 21744));
            Assert.Equal(0, ProcNetText.EstablishedTo(Tcp, 5432)); // the database is the remote end, not a local port
            Assert.Equal(1, ProcNetText.EstablishedTo(Tcp, 0xC350)); // the pool's own end, for completeness
            Assert.Equal(0, ProcNetText.EstablishedTo(Tcp, 21745));
            Assert.Equal(0, ProcNetText.EstablishedTo("garbage\n  7: nonsense\n", 21744));
            Assert.Equal(0, ProcNetText.EstablishedTo(null, 21744));
        }

        [Theory]
        [InlineData("0::/docker/" + ContainerId + "\n", true)]
        [InlineData("9:name=systemd:/docker/" + ContainerId + "\n0::/docker/" + ContainerId + "\n", true)]
        [InlineData("0::/system.slice/docker-" + ContainerId + ".scope\n", true)]
        [InlineData("0::/machine.slice/libpod-" + ContainerId + ".scope/container\n", true)]
        [InlineData("0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + ContainerId + ".scope\n", true)]
        [InlineData("0::/\n", false)]
        [InlineData("0::/docker/" + "a851e394bd88366c14434863b575b11a6cab9f4854c35d0aa5614eb7cd4a7eee" + "\n", false)]
        [InlineData("0::/docker/" + ContainerId + "0\n", false)]
        [InlineData("0::/docker/0" + ContainerId + "\n", false)]
        [InlineData("docker/" + ContainerId + "\n", false)]
        [InlineData("", false)]
        public void The_cgroup_must_name_the_container_as_a_whole_id(string cgroup, bool expected)
        {
            Assert.Equal(expected, ProcNetText.CgroupNames(cgroup, ContainerId));
        }

        [Fact]
        public void A_short_or_missing_container_id_never_matches()
        {
            Assert.False(ProcNetText.CgroupNames("0::/docker/f851e394bd88\n", "f851e394bd88"));
            Assert.False(ProcNetText.CgroupNames("0::/docker/xyz\n", "xyz"));
            Assert.False(ProcNetText.CgroupNames("0::/docker/" + ContainerId, null));
            Assert.False(ProcNetText.CgroupNames(null, ContainerId));
        }

        private static readonly DateTimeOffset T0 = new DateTimeOffset(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

        private static ActivitySample At(double seconds, string value, string signal = ActivitySample.AcceptedSignal, int? attached = 0, string preview = "container a") =>
            new ActivitySample { At = T0.AddSeconds(seconds), Preview = preview, Signal = signal, Value = value, Attached = attached };

        public static readonly TheoryData<string, ActivitySample, ActivitySample, IdleVerdict> Table = new TheoryData<string, ActivitySample, ActivitySample, IdleVerdict>
        {
            { "first sample", null, At(0, "1"), IdleVerdict.Baseline },
            { "another preview", At(0, "1", preview: "container b"), At(10, "1"), IdleVerdict.Baseline },
            { "a 0.2.0 sample (no signal)", At(0, "698", signal: null, attached: null), At(10, "1"), IdleVerdict.Baseline },
            { "a 0.2.0 sample with the same value", At(0, "1", signal: null, attached: null), At(10, "1"), IdleVerdict.Baseline },
            { "another signal", At(0, "656", signal: ActivitySample.BytesSignal, attached: null), At(10, "1"), IdleVerdict.Baseline },
            { "accepted unchanged, long enough", At(0, "1"), At(7, "1"), IdleVerdict.Idle },
            { "accepted unchanged, exactly the idle time", At(0, "1"), At(4, "1"), IdleVerdict.Idle },
            { "accepted unchanged, not long enough", At(0, "1"), At(3, "1"), IdleVerdict.Quiet },
            { "accepted one more", At(0, "1"), At(7, "2"), IdleVerdict.Busy },
            { "an open connection, nothing accepted", At(0, "1", attached: 1), At(7, "1", attached: 1), IdleVerdict.Busy },
            { "a connection opened after the baseline", At(0, "1"), At(7, "2", attached: 1), IdleVerdict.Busy },
            { "the counter went down (a restart?)", At(0, "5"), At(7, "1"), IdleVerdict.Baseline },
            { "an unreadable counter", At(0, "x"), At(7, "1"), IdleVerdict.Baseline },
            { "bytes: an ARP frame", At(0, "656", ActivitySample.BytesSignal, null), At(7, "698", ActivitySample.BytesSignal, null), IdleVerdict.Idle },
            { "bytes: three ARP frames", At(0, "656", ActivitySample.BytesSignal, null), At(7, "782", ActivitySample.BytesSignal, null), IdleVerdict.Idle },
            { "bytes: exactly the allowance", At(0, "656", ActivitySample.BytesSignal, null), At(7, "784", ActivitySample.BytesSignal, null), IdleVerdict.Idle },
            { "bytes: a served request", At(0, "656", ActivitySample.BytesSignal, null), At(7, "1056", ActivitySample.BytesSignal, null), IdleVerdict.Busy },
            { "bytes: one past the allowance", At(0, "656", ActivitySample.BytesSignal, null), At(7, "785", ActivitySample.BytesSignal, null), IdleVerdict.Busy },
            { "bytes: not long enough", At(0, "656", ActivitySample.BytesSignal, null), At(3, "656", ActivitySample.BytesSignal, null), IdleVerdict.Quiet },
            { "process: same connections", At(0, "127.0.0.1:5000/TimeWait", ActivitySample.ConnectionsSignal), At(7, "127.0.0.1:5000/TimeWait", ActivitySample.ConnectionsSignal), IdleVerdict.Idle },
            { "process: a new connection", At(0, "", ActivitySample.ConnectionsSignal), At(7, "127.0.0.1:5000/TimeWait", ActivitySample.ConnectionsSignal), IdleVerdict.Busy },
            { "process: an attached client", At(0, "127.0.0.1:5000/Established", ActivitySample.ConnectionsSignal, 1), At(7, "127.0.0.1:5000/Established", ActivitySample.ConnectionsSignal, 1), IdleVerdict.Busy },
        };

        [Theory]
        [MemberData(nameof(Table))]
        public void The_judge_decides_by_the_table(string situation, ActivitySample previous, ActivitySample current, IdleVerdict expected)
        {
            var judged = IdleJudge.Judge(previous, current, TimeSpan.FromSeconds(4));
            Assert.True(expected == judged.Verdict, $"{situation}: {judged.Verdict} ({judged.Reason})");
            Assert.NotNull(judged.Keep);
            // A quiet run keeps its start; anything else starts a new run at this sample.
            var quiet = expected == IdleVerdict.Idle || expected == IdleVerdict.Quiet;
            Assert.Equal(quiet ? previous.At : current.At, judged.Keep.At);
            Assert.Equal(current.Value, judged.Keep.Value);
            Assert.Equal(current.Signal, judged.Keep.Signal);
        }

        [Fact]
        public void Small_byte_rises_add_up_only_between_two_samples_not_since_the_run_began()
        {
            var run = At(0, "656", ActivitySample.BytesSignal, null);
            for (var i = 1; i <= 5; i++)
            {
                var judged = IdleJudge.Judge(run, At(i * 60, (656 + i * 100).ToString(System.Globalization.CultureInfo.InvariantCulture), ActivitySample.BytesSignal, null), TimeSpan.FromMinutes(4));
                Assert.Equal(i >= 4 ? IdleVerdict.Idle : IdleVerdict.Quiet, judged.Verdict);
                run = judged.Keep;
            }
            Assert.StartsWith("idle for 5:00 (no use since 2030-01-01 12:00:00Z)", IdleJudge.Judge(run, At(300, "1156", ActivitySample.BytesSignal, null), TimeSpan.FromMinutes(4)).Reason, StringComparison.Ordinal);
        }

        [Fact]
        public void A_sample_written_by_0_2_0_reads_without_a_signal_and_new_fields_only_add_to_the_shape()
        {
            var text = "{\"version\":2,\"stateId\":\"s\",\"allocations\":{},\"activity\":{\"a\":{\"at\":\"2030-01-01T12:00:00+00:00\",\"preview\":\"container a\",\"value\":\"698\"}}}";
            var document = StateStore.Parse(text, out var problem, out var dropped);
            Assert.Null(problem);
            Assert.Empty(dropped);
            var old = document.Activity["a"];
            Assert.Equal(("container a", "698", (string)null, (int?)null), (old.Preview, old.Value, old.Signal, old.Attached));
            Assert.Equal(IdleVerdict.Baseline, IdleJudge.Judge(old, At(600, "698"), TimeSpan.FromSeconds(4)).Verdict);

            var written = StateJson.Write(At(0, "3", attached: 1));
            Assert.Contains("\"at\":", written, StringComparison.Ordinal);
            Assert.Contains("\"preview\":\"container a\"", written, StringComparison.Ordinal);
            Assert.Contains("\"value\":\"3\"", written, StringComparison.Ordinal);
            Assert.Contains("\"signal\":\"accepted\"", written, StringComparison.Ordinal);
            Assert.Contains("\"attached\":1", written, StringComparison.Ordinal);
        }
    }
}
