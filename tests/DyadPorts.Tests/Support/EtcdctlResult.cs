using System;
using System.Collections.Generic;

namespace DyadPorts.Tests.Support
{
    /// <summary>What one etcdctl call gave.</summary>
    public sealed class EtcdctlResult
    {
        public EtcdctlResult(IReadOnlyList<string> arguments, int exitCode, string output, string error, TimeSpan elapsed)
        {
            Arguments = arguments;
            ExitCode = exitCode;
            Output = output;
            Error = error;
            Elapsed = elapsed;
        }

        public IReadOnlyList<string> Arguments { get; }
        public int ExitCode { get; }
        public string Output { get; }
        public string Error { get; }
        public TimeSpan Elapsed { get; }
        public bool Succeeded => ExitCode == 0;

        /// <summary>This result, or an exception naming the call and its stderr.</summary>
        public EtcdctlResult EnsureSuccess() => Succeeded ? this : throw new InvalidOperationException($"{this}");

        public override string ToString() =>
            $"etcdctl {string.Join(" ", Arguments)} exited {ExitCode} after {Elapsed.TotalSeconds:0.0} s; stdout: {Output.Trim()}; stderr: {Error.Trim()}";
    }
}
