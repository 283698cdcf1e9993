using System;
using System.IO;
using DyadPorts.Core.Previews;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Previews
{
    /// <summary>The process engine hands program and arguments over as ProcessStartInfo.ArgumentList: no quoting of ours.</summary>
    public class ProcessArgumentTests
    {
        [UnixFact] // printf is a POSIX program
        public void Arguments_reach_the_program_exactly_without_a_shell_expanding_them()
        {
            var dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "dyadports-args-" + Guid.NewGuid().ToString("N")));
            try
            {
                var log = Path.Combine(dir.FullName, "logs", "args.log");
                var request = new PreviewRequest
                {
                    AppId = "args",
                    Path = dir.FullName,
                    Command = new[] { "printf", "[%s]\\n", "a b", "back\\slash\"quote", "", "$PORT", "it's" },
                };
                using (var process = ProcessPreviewHost.Start(request, 21699, log))
                {
                    Assert.True(process.WaitForExit(10000));
                    Assert.Equal(0, process.ExitCode);
                }
                Assert.Equal(new[] { "[a b]", "[back\\slash\"quote]", "[]", "[$PORT]", "[it's]" }, File.ReadAllLines(log));
            }
            finally
            {
                dir.Delete(true);
            }
        }
    }
}
