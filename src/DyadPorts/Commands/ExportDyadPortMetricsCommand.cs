using System.IO;
using System.Management.Automation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Insights;
using DyadPorts.Infrastructure;

namespace DyadPorts.Commands
{
    /// <summary>Writes the range's gauges and the journal's counters in the Prometheus text format, atomically, for node_exporter's textfile collector.</summary>
    [Cmdlet(VerbsData.Export, "DyadPortMetrics", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(FileInfo))]
    public sealed class ExportDyadPortMetricsCommand : EngineCmdlet
    {
        /// <summary>The .prom file to write (replaced atomically).</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; }

        [Parameter]
        public string PortRange { get; set; }

        /// <summary>Write the file to the pipeline, as Get-Item gives it (so it pipes on to Get-Content).</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void End()
        {
            var path = FileSystemPath(Path, e => new DyadPortsException(ErrorIds.MetricsWriteFailed, FailureCategory.InvalidArgument, Path, $"-Path '{Path}' names no file-system path: {e.Message}", e));
            var range = Settings.RangeOr(PortRange);
            if (!ShouldProcess(path, $"Write DyadPorts metrics for {range}")) return;
            var usage = Allocator.Usage(range, Log, CancellationToken);
            PrometheusText.WriteAtomically(path, PrometheusText.Build(usage));
            WriteVerbose($"Wrote {path}: {usage.Free} of {usage.Total} ports free.");
            if (PassThru) WriteObject(InvokeProvider.Item.Get(new[] { path }, false, true), true);
        }
    }
}
