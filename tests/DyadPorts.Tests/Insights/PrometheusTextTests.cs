using System;
using DyadPorts.Core.Insights;
using System.IO;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Insights
{
    /// <summary>The Prometheus text and the metrics file it is written to.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public class PrometheusTextTests
    {
        [Fact]
        public void The_metrics_text_has_help_type_and_escaped_labels()
        {
            var usage = new PortUsage { Range = "21000-21009", First = 21000, Last = 21009, Total = 10, Free = 7, HeldByAllocation = 1, HeldByContainer = 1, HeldByHost = 1, At = DateTimeOffset.FromUnixTimeSeconds(1800000000) };
            usage.AllocationsByStatus["Active"] = 2;
            usage.EventCounts["Moved"] = 5;
            var text = PrometheusText.Build(usage);
            Assert.Contains("# HELP dyadports_ports_free ", text);
            Assert.Contains("# TYPE dyadports_events_total counter\n", text);
            Assert.Contains("dyadports_ports_held{range=\"21000-21009\",source=\"host\"} 1\n", text);
            Assert.Contains("dyadports_allocations{status=\"active\"} 2\n", text);
            Assert.Contains("dyadports_allocations{status=\"conflict\"} 0\n", text);
            Assert.Contains("dyadports_events_total{kind=\"moved\"} 5\n", text);
            Assert.Contains("dyadports_events_total{kind=\"race_lost\"} 0\n", text);
            Assert.Contains("dyadports_last_export_timestamp_seconds 1800000000\n", text);
            Assert.Equal("a\\\\b\\\"c\\nd", PrometheusText.Escape("a\\b\"c\nd"));
        }

        [Fact]
        public void The_metrics_file_is_0644_in_a_folder_of_another_user_and_replaces_a_planted_link_without_writing_through_it()
        {
            Assert.True(Environment.UserName == "root", "changing a folder's owner needs root; the suite runs as root");
            using var temp = new TempState();
            var folder = Path.Combine(temp.Directory, "textfile");
            Directory.CreateDirectory(folder);
            File.SetUnixFileMode(folder, (UnixFileMode)Convert.ToInt32("755", 8));
            var victim = Path.Combine(temp.Directory, "victim.txt");
            File.WriteAllText(victim, "precious");
            var path = Path.Combine(folder, "dyadports.prom");
            File.CreateSymbolicLink(path, victim);
            Tools.Run(null, false, "chown", "-h", "65534:65534", folder, path);

            PrometheusText.WriteAtomically(path, "dyadports_ports 10\n");

            Assert.Equal("dyadports_ports 10\n", File.ReadAllText(path));
            Assert.Null(new FileInfo(path).LinkTarget);
            Assert.Equal((UnixFileMode)Convert.ToInt32("644", 8), File.GetUnixFileMode(path));
            Assert.Equal("precious", File.ReadAllText(victim));
            Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
        }

        [Fact]
        public void A_metrics_folder_that_does_not_exist_is_a_metrics_error()
        {
            using var temp = new TempState();
            var e = Assert.Throws<DyadPortsException>(() => PrometheusText.WriteAtomically(Path.Combine(temp.Directory, "missing", "x.prom"), "x\n"));
            Assert.Equal(ErrorIds.MetricsWriteFailed, e.ErrorId);
            Assert.Equal(FailureCategory.WriteError, e.Category);
        }
    }
}
