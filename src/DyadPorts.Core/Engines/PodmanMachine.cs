using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Runtime.InteropServices;

namespace DyadPorts.Core.Engines
{
    /// <summary>
    /// A podman machine's forwarded API socket: what `podman machine inspect` reports as ConnectionInfo.PodmanSocket,
    /// else the places podman 5 and podman 4 put it.
    /// </summary>
    public static class PodmanMachine
    {
        /// <summary>A podman machine connection is an ssh:// URI to localhost (or flagged IsMachine).</summary>
        public static bool IsMachine(PodmanConnection connection)
        {
            if (connection.IsMachine) return true;
            return System.Uri.TryCreate(connection.Uri ?? "", UriKind.Absolute, out var uri) && uri.Scheme == "ssh" &&
                   (uri.Host == "localhost" || uri.Host == "127.0.0.1" || uri.Host == "[::1]" || uri.Host == "::1");
        }

        /// <summary>"podman-machine-default-root" belongs to machine "podman-machine-default".</summary>
        public static string MachineName(string connectionName) =>
            connectionName.EndsWith("-root", StringComparison.Ordinal) ? connectionName.Substring(0, connectionName.Length - 5) : connectionName;

        private static readonly TimeSpan InspectTimeout = TimeSpan.FromSeconds(10);

        /// <summary>
        /// The socket path `podman machine inspect NAME` reports; null when podman is not on the environment's PATH, says
        /// nothing, or takes longer than 10 s (it is then killed). Cancelling kills it too, and throws.
        /// </summary>
        public static string Inspect(string machine, Func<string, string> environment, System.Threading.CancellationToken cancellationToken)
        {
            var podman = FindOnPath(RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "podman.exe" : "podman", environment("PATH"));
            if (podman == null) return null;
            try
            {
                var start = new ProcessStartInfo(podman) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                start.ArgumentList.Add("machine");
                start.ArgumentList.Add("inspect");
                start.ArgumentList.Add(machine);
                using (var process = Process.Start(start))
                using (var timeout = System.Threading.CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    timeout.CancelAfter(InspectTimeout);
                    var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
                    _ = process.StandardError.ReadToEndAsync(timeout.Token);
                    try
                    {
                        process.WaitForExitAsync(timeout.Token).GetAwaiter().GetResult();
                    }
                    catch (OperationCanceledException)
                    {
                        try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } catch (System.ComponentModel.Win32Exception) { }
                        cancellationToken.ThrowIfCancellationRequested();
                        return null;
                    }
                    return process.ExitCode == 0 ? SocketFromInspect(output.GetAwaiter().GetResult()) : null;
                }
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception || e is InvalidOperationException || e is IOException)
            {
                return null;
            }
        }

        /// <summary>The first executable file of that name in the PATH's folders; null when none has it.</summary>
        public static string FindOnPath(string name, string path)
        {
            if (string.IsNullOrWhiteSpace(path)) return null;
            foreach (var folder in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                string candidate;
                try { candidate = Path.Combine(folder.Trim(), name); }
                catch (ArgumentException) { continue; }
                if (File.Exists(candidate)) return candidate;
            }
            return null;
        }

        /// <summary>ConnectionInfo.PodmanSocket.Path (or PodmanPipe.Path on Windows) from `podman machine inspect` output.</summary>
        public static string SocketFromInspect(string json)
        {
            try
            {
                var token = CliJson.Parse(json, objectOnly: false);
                var machine = token is { ValueKind: JsonValueKind.Array } array ? (array.GetArrayLength() > 0 ? array[0] : (JsonElement?)null) : token;
                var info = CliJson.Member(machine, "ConnectionInfo");
                return CliJson.String(CliJson.Member(info, "PodmanSocket"), "Path") ?? CliJson.String(CliJson.Member(info, "PodmanPipe"), "Path");
            }
            catch (Exception e) when (Diagnostics.JsonShape.IsMismatch(e))
            {
                return null; // not as podman writes it: as if it named no socket
            }
        }

        /// <summary>Where the machine's API socket is when podman cannot be asked: podman 5's, then podman 4's places.</summary>
        public static IReadOnlyList<string> Candidates(string machine, Func<string, string> environment)
        {
            var list = new List<string>();
            var tmp = environment("TMPDIR");
            if (!string.IsNullOrWhiteSpace(tmp)) list.Add(Path.Combine(tmp, "podman", machine + "-api.sock"));
            var runtime = environment("XDG_RUNTIME_DIR");
            if (!string.IsNullOrWhiteSpace(runtime)) list.Add(Path.Combine(runtime, "podman", machine + "-api.sock"));
            var home = DockerCliConfig.Home(environment);
            if (home != null)
            {
                var data = environment("XDG_DATA_HOME");
                var root = Path.Combine(string.IsNullOrWhiteSpace(data) ? Path.Combine(home, ".local", "share") : data, "containers", "podman", "machine");
                list.Add(Path.Combine(root, machine, "podman.sock"));
                foreach (var provider in new[] { "applehv", "libkrun", "qemu" }) list.Add(Path.Combine(root, provider, "podman.sock"));
            }
            return list;
        }
    }
}
