using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Text.Json;

namespace DyadPorts.Tests.Support
{
    /// <summary>
    /// A child pwsh running a script, as tools/ChildPwsh.ps1 starts one: pwsh.dll of the repository's local tool
    /// (.config/dotnet-tools.json) run with 'dotnet exec', so the pid held here is pwsh itself (no muxer child) and a
    /// kill -9 of it (<see cref="Kill"/>) is the kill of the operator. The script imports the DyadPorts the tests were
    /// built with (<see cref="ModulePath"/>); values reach it as environment variables, never spliced into its text. Its
    /// output and errors are kept; Dispose kills it by pid if it still runs and deletes the script. The script is a file
    /// in the run's temporary folder (<see cref="TestRun.TempRoot"/>).
    /// </summary>
    public sealed class ChildPwsh : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new StringBuilder();
        private readonly StringBuilder _error = new StringBuilder();
        private readonly string _scriptFile;
        private readonly string _tempFolder;
        private string _startTicks;

        private ChildPwsh(Process process, string scriptFile, string tempFolder)
        {
            _process = process;
            _scriptFile = scriptFile;
            _tempFolder = tempFolder;
        }

        /// <summary>The module the child imports: DyadPorts.dll beside the test binaries.</summary>
        public static string ModulePath => typeof(DyadPorts.Commands.RequestDyadPortCommand).Assembly.Location;

        public int Id => _process.Id;
        public bool HasExited => _process.HasExited;

        public string Output
        {
            get { lock (_output) return _output.ToString(); }
        }

        public string Error
        {
            get { lock (_error) return _error.ToString(); }
        }

        /// <summary>Starts <paramref name="script"/> in a new pwsh with <paramref name="environment"/> added to this process's (a null value removes a variable).</summary>
        public static ChildPwsh Start(string script, IDictionary<string, string> environment)
        {
            ArgumentNullException.ThrowIfNull(script);
            Directory.CreateDirectory(TestRun.TempRoot);
            var file = Path.Combine(TestRun.TempRoot, $"child-{Guid.NewGuid():N}.ps1");
            File.WriteAllText(file, script);
            var start = new ProcessStartInfo(DotnetHost())
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = "/",
            };
            foreach (var a in new[] { "exec", PwshDll(), "-NoProfile", "-NonInteractive", "-File", file }) start.ArgumentList.Add(a);
            start.Environment["DYADPORTS_CHILD_MODULE"] = ModulePath;
            foreach (var kv in environment ?? new Dictionary<string, string>())
            {
                if (kv.Value == null) start.Environment.Remove(kv.Key);
                else start.Environment[kv.Key] = kv.Value;
            }
            var process = new Process { StartInfo = start };
            var temp = environment != null && environment.TryGetValue("TMPDIR", out var tmpdir) && !string.IsNullOrEmpty(tmpdir) ? tmpdir : Path.GetTempPath();
            var child = new ChildPwsh(process, file, temp);
            process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (child._output) child._output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (child._error) child._error.AppendLine(e.Data); };
            process.Start();
            child._startTicks = ProcessLeftovers.StartTicks(process.Id);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return child;
        }

        /// <summary>
        /// kill -9 (SIGKILL on Unix) of this child by its pid, then waits for it to be gone and removes what only a normal
        /// exit removes (<see cref="ProcessLeftovers"/>).
        /// </summary>
        public void Kill()
        {
            _process.Kill(entireProcessTree: false);
            _process.WaitForExit();
            ProcessLeftovers.Remove(_process.Id, _startTicks, _tempFolder);
        }

        /// <summary>Waits for the child to end; false when it still runs after <paramref name="timeout"/>.</summary>
        public bool WaitForExit(TimeSpan timeout)
        {
            if (!_process.WaitForExit(timeout)) return false;
            _process.WaitForExit(); // the output readers drain
            return true;
        }

        public int ExitCode => _process.ExitCode;

        public override string ToString() => $"child pwsh {Id}{(HasExited ? $" (exit {ExitCode})" : " (running)")}; stdout: {Output.Trim()}; stderr: {Error.Trim()}";

        public void Dispose()
        {
            try
            {
                if (!_process.HasExited) Kill();
            }
            catch (InvalidOperationException)
            {
                // never started or already reaped
            }
            _process.Dispose();
            try { File.Delete(_scriptFile); }
            catch (IOException) { }
        }

        /// <summary>The dotnet host: DOTNET_HOST_PATH when the SDK set it, else dotnet under DOTNET_ROOT, else dotnet on the PATH.</summary>
        private static string DotnetHost()
        {
            var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            if (!string.IsNullOrEmpty(host) && File.Exists(host)) return host;
            var root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
            if (!string.IsNullOrEmpty(root) && File.Exists(Path.Combine(root, "dotnet"))) return Path.Combine(root, "dotnet");
            return "dotnet";
        }

        /// <summary>pwsh.dll of the local tool's package, at the version .config/dotnet-tools.json pins.</summary>
        private static string PwshDll()
        {
            using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoFiles.Root, ".config", "dotnet-tools.json")));
            var version = manifest.RootElement.GetProperty("tools").GetProperty("powershell").GetProperty("version").GetString();
            var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
            if (string.IsNullOrEmpty(packages)) packages = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            var tools = Path.Combine(packages, "powershell", version, "tools");
            foreach (var framework in Directory.Exists(tools) ? Directory.GetDirectories(tools) : Array.Empty<string>())
            {
                var dll = Path.Combine(framework, "any", OperatingSystem.IsWindows() ? "win" : "unix", "pwsh.dll");
                if (File.Exists(dll)) return dll;
            }
            throw new InvalidOperationException($"pwsh.dll of the local tool powershell {version} is not under {tools}: run 'dotnet tool restore'.");
        }
    }
}
