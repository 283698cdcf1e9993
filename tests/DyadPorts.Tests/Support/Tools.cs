using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;

namespace DyadPorts.Tests.Support
{
    /// <summary>Runs a command-line tool (ip, openssl, docker, podman) from '/', without a shell, and fails with its stderr.</summary>
    public static class Tools
    {
        /// <param name="environment">Variables to set; a null value removes the variable.</param>
        public static string Run(IDictionary<string, string> environment, bool mayFail, params string[] args)
        {
            var start = new ProcessStartInfo(args[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
            foreach (var a in args.Skip(1)) start.ArgumentList.Add(a);
            foreach (var kv in environment ?? new Dictionary<string, string>())
            {
                if (kv.Value == null) start.Environment.Remove(kv.Key);
                else start.Environment[kv.Key] = kv.Value;
            }
            using var p = Process.Start(start);
            var err = p.StandardError.ReadToEndAsync();
            var output = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(120_000))
            {
                p.Kill();
                throw new InvalidOperationException($"'{string.Join(" ", args)}' did not finish within 120 s.");
            }
            if (p.ExitCode != 0 && !mayFail) throw new InvalidOperationException($"'{string.Join(" ", args)}' failed ({p.ExitCode}): {err.Result}");
            return output;
        }

        public static string Run(params string[] args) => Run(null, false, args);
    }
}
