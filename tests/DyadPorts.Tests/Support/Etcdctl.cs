using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;

namespace DyadPorts.Tests.Support
{
    /// <summary>
    /// Runs etcdctl (v3 API) from '/' without a shell: every argument through ArgumentList, output captured, a
    /// bound on the wall time (the process is killed past it). Inherited ETCDCTL_* variables are removed, so only
    /// what a test passes applies; a password goes in <c>ETCDCTL_USER=user:password</c>, never in an argument.
    /// </summary>
    public static class Etcdctl
    {
        public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

        /// <param name="endpoints">host:port or scheme://host:port, joined into --endpoints.</param>
        /// <param name="arguments">The command and its flags, e.g. "put", key, value, or "--command-timeout=2s", "get", key.</param>
        public static EtcdctlResult Run(IEnumerable<string> endpoints, params string[] arguments) =>
            Run(endpoints, arguments, null, DefaultTimeout);

        /// <param name="environment">Variables to set (ETCDCTL_USER, ETCDCTL_CACERT, ...); a null value removes one.</param>
        /// <param name="timeout">Wall-time bound; past it the process is killed and a TimeoutException thrown.</param>
        public static EtcdctlResult Run(IEnumerable<string> endpoints, IEnumerable<string> arguments, IDictionary<string, string> environment, TimeSpan timeout)
        {
            ArgumentNullException.ThrowIfNull(endpoints);
            ArgumentNullException.ThrowIfNull(arguments);
            var args = new List<string> { "--endpoints=" + string.Join(",", endpoints) };
            args.AddRange(arguments);
            var start = new ProcessStartInfo(EtcdBinaries.Etcdctl)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = "/",
            };
            foreach (var a in args) start.ArgumentList.Add(a);
            foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("ETCDCTL_", StringComparison.Ordinal)).ToList()) start.Environment.Remove(key);
            start.Environment["ETCDCTL_API"] = "3";
            foreach (var kv in environment ?? new Dictionary<string, string>())
            {
                if (kv.Value == null) start.Environment.Remove(kv.Key);
                else start.Environment[kv.Key] = kv.Value;
            }

            var clock = Stopwatch.StartNew();
            using var p = Process.Start(start);
            var output = p.StandardOutput.ReadToEndAsync();
            var error = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(timeout))
            {
                p.Kill();
                p.WaitForExit();
                throw new TimeoutException($"etcdctl {string.Join(" ", args)} did not finish within {timeout.TotalSeconds:0.#} s; stderr: {error.Result}");
            }
            p.WaitForExit();
            return new EtcdctlResult(args, p.ExitCode, output.Result, error.Result, clock.Elapsed);
        }
    }
}
