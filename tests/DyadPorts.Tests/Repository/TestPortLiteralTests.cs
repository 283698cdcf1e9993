using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Repository
{
    /// <summary>
    /// Every port a test asks for literally (a PortRange, a -PortRange, a listener) lies in 20000-31999: below the
    /// ephemeral range and outside the default range 32100-32200, where a user's own previews live. The pure unit
    /// tests of parsing and choosing ranges are the only exceptions, by name below.
    /// </summary>
    public class TestPortLiteralTests
    {
        private const int First = 20000;
        private const int Last = 31999;

        /// <summary>Pure tests of the default range and of range parsing: no port of theirs is ever bound.</summary>
        private static readonly string[] Allowed =
        {
            "tests/DyadPorts.Tests/Unit/PortRangeTests.cs",
            "tests/DyadPorts.Tests/Unit/PortChooserTests.cs",
            "tests/DyadPorts.Tests/Repository/TestPortLiteralTests.cs",
        };

        // C#: new PortRange(a, b), PortRange.Parse("a-b"), Listen(ip, p), new TcpListener(ip, p); pwsh: [TcpListener]::new(ip, p):
        // the arguments up to the first ')'. pwsh: -PortRange a-b: the next word.
        // (a socket's own .Listen(backlog) takes no port, so a call after a dot is not one.)
        private static readonly Regex Call = new Regex(@"(?:\bPortRange(?:\.Parse)?|(?<!\.)\bListen|\bTcpListener(?:\]::new)?)\(([^)]*)\)", RegexOptions.Compiled);
        private static readonly Regex Parameter = new Regex(@"-PortRange\s+(\S+)", RegexOptions.Compiled | RegexOptions.IgnoreCase);
        // A number of 2-5 digits that is not part of an identifier, an IP address or a longer number.
        private static readonly Regex Number = new Regex(@"(?<![\w.:])\d{2,5}(?![\w.])", RegexOptions.Compiled);

        public static IEnumerable<string> Sources(string root) =>
            Directory.EnumerateFiles(Path.Combine(root, "tests"), "*.cs", SearchOption.AllDirectories)
                .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                            && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
                .Concat(Directory.EnumerateFiles(Path.Combine(root, "tests", "pester"), "*.ps1"));

        /// <summary>"file:line: port N in '...'" for every literal port of those forms outside 20000-31999.</summary>
        public static IEnumerable<string> Offenders(string relativePath, IEnumerable<string> lines)
        {
            var number = 0;
            foreach (var line in lines)
            {
                number++;
                var arguments = Call.Matches(line).Select(m => m.Groups[1].Value).Concat(Parameter.Matches(line).Select(m => m.Groups[1].Value));
                foreach (var text in arguments)
                {
                    foreach (Match port in Number.Matches(text))
                    {
                        var value = int.Parse(port.Value, System.Globalization.CultureInfo.InvariantCulture);
                        if (value < First || value > Last) yield return $"{relativePath}:{number}: port {value} in '{line.Trim()}'";
                    }
                }
            }
        }

        [Fact]
        public void The_scan_finds_each_form_out_of_range_and_passes_the_same_forms_in_range()
        {
            var bad = new[]
            {
                "var r = new PortRange(32100, 32104);",
                "PortRange.Parse(\"40000-40010\")",
                "using var l = Listen(IPAddress.Loopback, 33000);",
                "var v4 = new TcpListener(IPAddress.Loopback, 8080);",
                "$b = [System.Net.Sockets.TcpListener]::new([ipaddress]::Any, 32150)",
                "Request-DyadPort a -PortRange 33500-33510 | Out-Null",
                "Request-DyadPort a -PortRange '21000-32768'",
            };
            Assert.Equal(new[] { 32100, 32104, 40000, 40010, 33000, 8080, 32150, 33500, 33510, 32768 },
                Offenders("x", bad).Select(o => int.Parse(Regex.Match(o, @"port (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)));
            var good = new[]
            {
                "var r = new PortRange(21010, 21020);",
                "Listen(IPAddress.Parse(\"127.0.0.1\"), port)",
                "new TcpListener(IPAddress.IPv6Any, 21071) { Server = { DualMode = false } };",
                "Request-DyadPort a -PortRange 23700-23710 -Engine Process",
                "Request-DyadPort a -PortRange $range",
            };
            Assert.Empty(Offenders("x", good));
        }

        [Fact]
        public void Every_literal_test_port_lies_in_20000_to_31999()
        {
            var root = RepoFiles.Root;
            var offenders = new List<string>();
            var scanned = 0;
            foreach (var file in Sources(root))
            {
                var relative = Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
                if (Allowed.Contains(relative, StringComparer.Ordinal)) continue;
                scanned++;
                offenders.AddRange(Offenders(relative, File.ReadLines(file)));
            }
            Assert.True(scanned > 20, $"only {scanned} test files found under {root}/tests");
            Assert.True(offenders.Count == 0, "ports outside 20000-31999 (ephemeral, or the default range a user's previews use):\n" + string.Join("\n", offenders));
        }
    }
}
