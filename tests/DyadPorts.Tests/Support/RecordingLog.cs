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
        void IOperationLog.Verbose(string message) { lock (Verbose) Verbose.Add(message); }
        void IOperationLog.Warning(string message) { lock (Warnings) Warnings.Add(message); }
        void IOperationLog.Progress(string activity, string status, int percent) { lock (Progress) Progress.Add($"{activity}: {status}"); }
    }
}
