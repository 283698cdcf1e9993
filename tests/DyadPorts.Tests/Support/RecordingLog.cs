using System.Collections.Generic;
using DyadPorts.Core.Diagnostics;

namespace DyadPorts.Tests.Support
{
    public sealed class RecordingLog : IOperationLog
    {
        public List<string> Verbose { get; } = new List<string>();
        public List<string> Warnings { get; } = new List<string>();
        public List<string> Progress { get; } = new List<string>();
        public bool VerboseEnabled => true;

        /// <summary>When it says true, Progress throws as PowerShell's WriteProgress does in a pipeline that is stopping (Ctrl+C).</summary>
        public System.Func<bool> Stopping { get; init; }

        /// <summary>Runs at each progress record that is written (a test's Ctrl+C, say).</summary>
        public System.Action OnProgress { get; init; }
        void IOperationLog.Verbose(string message) { lock (Verbose) Verbose.Add(message); }
        void IOperationLog.Warning(string message) { lock (Warnings) Warnings.Add(message); }
        void IOperationLog.Progress(string activity, string status, int percent)
        {
            if (Stopping?.Invoke() == true) throw new System.Management.Automation.PipelineStoppedException();
            lock (Progress) Progress.Add($"{activity}: {status}");
            OnProgress?.Invoke();
        }
    }
}
