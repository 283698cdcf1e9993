using System;
using System.IO;
using System.Net.Http;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Previews;

namespace DyadPorts.Tests.Support
{
    /// <summary>
    /// What a preview test needs, in one place: the test's state (<see cref="State"/>: the ledger of its
    /// <see cref="EngineCase"/> row once <see cref="Use"/> chose it, else the state file), an app folder with an index
    /// page, and the allocator, launcher and request for an engine (null: the process engine), serving that folder over HTTP.
    /// </summary>
    public sealed class PreviewScenario : IDisposable
    {
        public const string ContainerHttpd = "httpd -f -p \"$PORT\" -h /app";
        public const string ProcessHttpd = "exec busybox httpd -f -p \"$PORT\" -h .";
        public static readonly HttpClient Http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };

        public PreviewScenario(string page)
        {
            Page = page;
            AppFolder = Path.Combine(Temp.Directory, "app");
            Directory.CreateDirectory(AppFolder);
            File.WriteAllText(Path.Combine(AppFolder, "index.html"), page);
        }

        public EngineState State { get; } = new EngineState();
        public TempState Temp => State.Temp;
        public string AppFolder { get; }
        public string Page { get; }

        /// <summary>Runs this scenario on <paramref name="row"/> (<see cref="EngineCase.Name"/>); its engine.</summary>
        public TestEngine Use(string row) => State.Use(row);

        public PortAllocator Allocator(TestEngine engine) => State.Allocator(engine);

        public PreviewLauncher Launcher(TestEngine engine) => State.Launcher(engine);

        public PreviewRequest Request(string appId, TestEngine engine, int first, int last, bool autoKill = false) => new PreviewRequest
        {
            AppId = appId,
            Path = AppFolder,
            Image = engine?.Image,
            Command = new[] { engine == null ? ProcessHttpd : ContainerHttpd },
            Range = new PortRange(first, last),
            Timeout = TimeSpan.FromSeconds(30),
            AutoKillPort = autoKill,
        };

        /// <summary>The page the preview on 127.0.0.1:<paramref name="port"/> serves, trimmed.</summary>
        public static string Get(int port) => Http.GetStringAsync($"http://127.0.0.1:{port}/").GetAwaiter().GetResult().Trim();

        /// <summary>
        /// Removes what this run created on the engines the test used, then the private state, its views included, even
        /// when a clean-up fails (a view left registered would be checked, and fail, in every later test).
        /// </summary>
        public void Dispose()
        {
            try
            {
                foreach (var name in new[] { "docker", "podman" })
                {
                    if (TestEngine.TryGet(name, out var engine)) engine.CleanUp();
                }
            }
            finally
            {
                State.Dispose();
            }
        }
    }
}
