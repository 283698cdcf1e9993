using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text.RegularExpressions;
using DyadPorts;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Ledger;
using DyadPorts.Core.Previews;
using DyadPorts.Core.State;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>
    /// PowerShell error semantics, hosted in-process: a failure tied to one input is non-terminating and the
    /// pipeline goes on; one that dooms every input stops the command. Process engine, ports 21650-21699.
    /// </summary>
    [Collection(EngineCollection.Name)]
    public sealed class ErrorSemanticsTests : IDisposable
    {
        private readonly EngineState _state = new EngineState();
        private readonly HostedPowerShell _ps = new HostedPowerShell();

        public ErrorSemanticsTests() => Environment.SetEnvironmentVariable("DYAD_PORTS_STATE", _state.Location);

        /// <summary>Runs the test on the process engine row <paramref name="row"/>: the cmdlets find its state through DYAD_PORTS_STATE.</summary>
        private void Use(string row)
        {
            Assert.Null(_state.Use(row));
            Environment.SetEnvironmentVariable("DYAD_PORTS_STATE", _state.Location);
        }

        public void Dispose()
        {
            Environment.SetEnvironmentVariable("DYAD_PORTS_STATE", null);
            _ps.Dispose();
            _state.Dispose();
        }

        [Theory]
        [MemberData(nameof(EngineCase.ProcessEngine), MemberType = typeof(EngineCase))]
        public void A_full_range_fails_each_input_alone_and_the_earlier_output_arrives(string row)
        {
            Use(row);
            // try/catch sees only terminating errors: none may come, and both later inputs are tried.
            var quiet = _ps.Run("try { 'a','b','c' | Request-DyadPort -PortRange 21650-21650 -Engine Process -ErrorAction SilentlyContinue -ErrorVariable ev } catch { 'caught' }; $ev.Count");
            Assert.Equal(new object[] { "a", 2 }, quiet.Output.Select(o => o.BaseObject is PortAllocation a ? a.AppId : o.BaseObject));
            Assert.Empty(quiet.Errors); // SilentlyContinue really is silent
            Assert.Equal(new[] { "a" }, _state.Peek().Allocations.Keys);

            var loud = _ps.Run("'c','b' | Request-DyadPort -PortRange 21650-21650 -Engine Process");
            Assert.Empty(loud.Output);
            Assert.Equal(new[] { "App c:", "App b:" }, loud.Errors.Select(e => e.Exception.Message.Substring(0, 6)));
            Assert.Equal(2, loud.Errors.Count);
            Assert.All(loud.Errors, e => Assert.StartsWith("PortRangeExhausted,", e.FullyQualifiedErrorId));
            Assert.All(loud.Errors, e => Assert.Equal(ErrorCategory.ResourceUnavailable, e.CategoryInfo.Category));
        }

        /// <summary>
        /// Piped apps requested through <paramref name="proxy"/> with the feed off (no engine view lists through the proxy in
        /// the background, so every request it sees is the command's): the one error, caught by try/catch (so terminating),
        /// with no output before it.
        /// </summary>
        private ErrorRecord RefusedOnce(HoldingEngineProxy proxy, string apps, string range, string engine = "-Engine Docker")
        {
            var result = WithFeedOff($"try {{ {apps} | Request-DyadPort {engine} -EngineEndpoint '{proxy.Endpoint}' -PortRange {range} }} catch {{ $_ }}");
            Assert.Empty(result.Errors);
            return Assert.IsType<ErrorRecord>(Assert.Single(result.Output).BaseObject);
        }

        /// <summary>Runs <paramref name="script"/> with DYAD_PORTS_ENGINE_FEED=off: no view of a test's proxy starts in the session.</summary>
        private HostedPowerShell.Result WithFeedOff(string script)
        {
            var feed = Environment.GetEnvironmentVariable("DYAD_PORTS_ENGINE_FEED");
            Environment.SetEnvironmentVariable("DYAD_PORTS_ENGINE_FEED", "off");
            try
            {
                return _ps.Run(script);
            }
            finally
            {
                Environment.SetEnvironmentVariable("DYAD_PORTS_ENGINE_FEED", feed);
            }
        }

        [Fact]
        public void An_engine_that_refuses_to_list_its_containers_stops_the_command_once_not_once_per_input()
        {
            // docker-socket-proxy with CONTAINERS=0 in front of the real dockerd: the ping passes, the list is refused.
            using var proxy = new HoldingEngineProxy(TestEngine.Get("docker").Endpoint);
            proxy.Refuse(line => line.Contains("/containers/json", StringComparison.Ordinal));
            var refused = RefusedOnce(proxy, "'a','b','c'", "21661-21669");
            Assert.StartsWith("EngineListRefused,", refused.FullyQualifiedErrorId, StringComparison.Ordinal);
            Assert.Equal(ErrorCategory.PermissionDenied, refused.CategoryInfo.Category);
            Assert.Equal(proxy.Endpoint, refused.TargetObject);
            Assert.Contains("HTTP 403", refused.Exception.Message, StringComparison.Ordinal);
            Assert.Single(proxy.Requests, r => r.Contains("/containers/json", StringComparison.Ordinal));
            Assert.Empty(_state.Peek()?.Allocations ?? new OrdinalDictionary<AllocationRecord>());
        }

        [Fact]
        public void An_engine_that_refuses_to_say_its_version_stops_the_command_once_when_its_family_is_not_named()
        {
            // A socket proxy that forbids /version: an -EngineEndpoint without -Engine is asked which engine it is.
            using var proxy = new HoldingEngineProxy(TestEngine.Get("docker").Endpoint);
            proxy.Refuse(line => line.Contains("/version", StringComparison.Ordinal));
            var refused = RefusedOnce(proxy, "'a','b','c'", "21611-21619", engine: "");
            Assert.StartsWith("EngineVersionRefused,", refused.FullyQualifiedErrorId, StringComparison.Ordinal);
            Assert.Equal(ErrorCategory.PermissionDenied, refused.CategoryInfo.Category);
            Assert.Equal(proxy.Endpoint, refused.TargetObject);
            Assert.Contains("HTTP 403", refused.Exception.Message, StringComparison.Ordinal);
            Assert.Contains("-Engine", refused.Exception.Message, StringComparison.Ordinal);
            Assert.Single(proxy.Requests, r => r.Contains("/version", StringComparison.Ordinal));
            Assert.Empty(_state.Peek()?.Allocations ?? new OrdinalDictionary<AllocationRecord>());

            // Named, the family needs no question: the same proxy serves all three (the feed off: no view of the proxy outlives the test).
            var named = WithFeedOff($"'a','b','c' | Request-DyadPort -Engine Docker -EngineEndpoint '{proxy.Endpoint}' -PortRange 21611-21619");
            Assert.Empty(named.Errors);
            Assert.Equal(3, named.Output.Count);
            Assert.Single(proxy.Requests, r => r.Contains("/version", StringComparison.Ordinal));
        }

        [Fact]
        public void An_engine_that_refuses_to_inspect_a_stopped_container_stops_the_command_once()
        {
            // Docker lists no ports for a stopped container: its inspect is part of the list, and refused it dooms every input too.
            var docker = TestEngine.Get("docker");
            var id = docker.Run(TestRun.App("inspect-refused"), 21693, start: false);
            using var proxy = new HoldingEngineProxy(docker.Endpoint);
            proxy.Refuse(line => line.Contains($"/containers/{id}/json", StringComparison.Ordinal));
            ErrorRecord refused;
            try
            {
                refused = RefusedOnce(proxy, "'a','b'", "21694-21699");
            }
            finally
            {
                docker.Remove(id);
            }
            Assert.StartsWith("EngineListRefused,", refused.FullyQualifiedErrorId, StringComparison.Ordinal);
            Assert.Equal(ErrorCategory.PermissionDenied, refused.CategoryInfo.Category);
            Assert.Equal(proxy.Endpoint, refused.TargetObject);
            Assert.Contains($"refused to inspect container {id}", refused.Exception.Message, StringComparison.Ordinal);
            Assert.Single(proxy.Requests, r => r.Contains($"/containers/{id}/json", StringComparison.Ordinal));
            Assert.Empty(_state.Peek()?.Allocations ?? new OrdinalDictionary<AllocationRecord>());
        }

        [Fact]
        public void Another_host_whose_engine_refuses_to_list_costs_only_its_own_records_and_one_error()
        {
            // A socket proxy that forbids listing (HTTP 403) in front of the real dockerd stands for another host's engine:
            // the allocator is handed that client for a record's endpoint on another address (TEST-NET-1).
            using var proxy = new HoldingEngineProxy(TestEngine.Get("docker").Endpoint);
            proxy.Refuse(line => line.Contains("/containers/json", StringComparison.Ordinal));
            using var refusing = new ContainerEngine(proxy.Endpoint, EngineKind.Docker);
            const string other = "tcp://192.0.2.10:2376";
            _state.Temp.Store.Update(s =>
            {
                s.Allocations["x"] = new AllocationRecord { AppId = "x", Port = 21690, Engine = EngineKind.Docker, EngineEndpoint = other };
                s.Allocations["y"] = new AllocationRecord { AppId = "y", Port = 21691, Engine = EngineKind.Docker, EngineEndpoint = other };
                s.Allocations["here"] = new AllocationRecord { AppId = "here", Port = 21692, Engine = EngineKind.Process };
                return 0;
            }, id => new StateDocument { StateId = id.StateId }, NullOperationLog.Instance, default);
            var allocator = new PortAllocator(_state.Temp.Store, null, EngineKind.Process) { EngineFor = _ => refusing };

            var errors = new List<DyadPortsException>();
            var listed = allocator.Get(_ => true, NullOperationLog.Instance, errors.Add, default).ToDictionary(a => a.AppId);

            Assert.Equal(AllocationStatus.Unknown, listed["x"].Status);
            Assert.Equal(AllocationStatus.Unknown, listed["y"].Status);
            Assert.Equal(AllocationStatus.Reserved, listed["here"].Status);
            var error = Assert.Single(errors);
            Assert.Equal(ErrorIds.EngineListRefused, error.ErrorId);
            Assert.Equal(proxy.Endpoint, error.Target);
            Assert.Single(proxy.Requests, r => r.Contains("/containers/json", StringComparison.Ordinal));
        }

        [Fact]
        public void An_image_that_cannot_be_pulled_stops_the_command_once_not_once_per_piped_app()
        {
            using var proxy = new HoldingEngineProxy(TestEngine.Get("docker").Endpoint); // to count the pulls
            var app = Directory.CreateDirectory(Path.Combine(_state.Temp.Directory, "image-app")).FullName;
            var result = _ps.Run($"try {{ 'img-a','img-b','img-c' | Start-DyadPreview -Path '{app}' -Image localhost:1/dyadports/no-such-image:1 " +
                $"-Engine Docker -EngineEndpoint '{proxy.Endpoint}' -PortRange 21686-21689 }} catch {{ $_ }}");
            Assert.Empty(result.Errors);
            var missing = Assert.IsType<ErrorRecord>(Assert.Single(result.Output).BaseObject);
            Assert.StartsWith("ImageNotFound,", missing.FullyQualifiedErrorId, StringComparison.Ordinal);
            Assert.Equal("localhost:1/dyadports/no-such-image:1", missing.TargetObject);
            Assert.Single(proxy.Requests, r => r.StartsWith("POST ", StringComparison.Ordinal) && r.Contains("/images/create", StringComparison.Ordinal));
            Assert.Empty(_state.Peek()?.Allocations ?? new OrdinalDictionary<AllocationRecord>());
        }

        [Theory]
        [MemberData(nameof(EngineCase.ProcessEngine), MemberType = typeof(EngineCase))]
        public void ErrorAction_Stop_still_stops_at_the_first_error(string row)
        {
            Use(row);
            var result = _ps.Run("try { 'a','b','c' | Request-DyadPort -PortRange 21651-21651 -Engine Process -ErrorAction Stop | ForEach-Object AppId } catch { 'caught ' + $_.FullyQualifiedErrorId }");
            Assert.Equal(new object[] { "a", "caught PortRangeExhausted,DyadPorts.Commands.RequestDyadPortCommand" }, result.Output.Select(o => o.BaseObject.ToString()));
            Assert.Equal(new[] { "a" }, _state.Peek().Allocations.Keys);
        }

        [Theory]
        [MemberData(nameof(EngineCase.ProcessEngine), MemberType = typeof(EngineCase))]
        public void Unknown_apps_are_reported_one_by_one_by_stop_and_remove(string row)
        {
            Use(row);
            _ps.Run("Request-DyadPort known -PortRange 21652-21660 -Engine Process");
            var stop = _ps.Run("Stop-DyadPreview nope1, known, nope2 -Engine Process -PassThru");
            Assert.Null(stop.Terminating);
            Assert.Equal(new object[] { "nope1", "nope2" }, stop.Errors.Select(e => e.TargetObject));
            Assert.All(stop.Errors, e => Assert.Equal(ErrorCategory.ObjectNotFound, e.CategoryInfo.Category));
            Assert.Equal("known", ((Preview)Assert.Single(stop.Output).BaseObject).AppId);

            var remove = _ps.Run("Remove-DyadPortAllocation gone1, gone2");
            Assert.Null(remove.Terminating);
            Assert.Equal(2, remove.Errors.Count);
        }

        [Fact] // on the file only: a state file of a newer version, left byte for byte
        public void A_newer_state_file_stops_the_command_and_is_left_byte_for_byte()
        {
            var content = "{\"version\":7,\"allocations\":{}}";
            File.WriteAllText(_state.Temp.StatePath, content);
            var result = _ps.Run("try { 'a','b' | Request-DyadPort -PortRange 21661-21670 -Engine Process -ErrorAction SilentlyContinue } catch { $_ }");
            var error = Assert.IsType<ErrorRecord>(Assert.Single(result.Output).BaseObject); // terminating: caught despite SilentlyContinue
            Assert.StartsWith("StateFileNewerVersion,", error.FullyQualifiedErrorId);
            Assert.Equal(_state.Temp.StatePath, error.TargetObject);
            Assert.Equal(ErrorCategory.InvalidData, error.CategoryInfo.Category);
            Assert.Equal(content, File.ReadAllText(_state.Temp.StatePath));
            Assert.Empty(Directory.GetFiles(_state.Temp.Directory, "state.json.corrupt-*"));
        }

        [Theory]
        [MemberData(nameof(EngineCase.ProcessEngine), MemberType = typeof(EngineCase))]
        public void An_invalid_range_parameter_stops_the_command(string row)
        {
            Use(row);
            var result = _ps.Run("try { 'a','b' | Request-DyadPort -PortRange 21670-21660 -Engine Process -ErrorAction SilentlyContinue } catch { $_.FullyQualifiedErrorId }");
            Assert.StartsWith("InvalidPortRange,", (string)Assert.Single(result.Output).BaseObject);
            Assert.Null(_state.Peek());
        }

        [Theory]
        [MemberData(nameof(EngineCase.ProcessEngine), MemberType = typeof(EngineCase))]
        public void A_recorded_process_without_its_start_time_is_never_killed(string row)
        {
            Use(row);
            using var sleeper = Process.Start(new ProcessStartInfo("sleep", "60"));
            try
            {
                _state.Seed(s => s.Allocations["p"] = new AllocationRecord { AppId = "p", Port = 21671, Engine = EngineKind.Process, ProcessId = sleeper.Id });
                var result = _ps.Run("Stop-DyadPreview p -Engine Process -PassThru");
                Assert.Null(result.AnyError);
                Assert.Contains(result.Warnings, w => w.Contains($"process {sleeper.Id}") && w.Contains("not touched"));
                Assert.False(sleeper.HasExited);
                Assert.False(_state.Peek().Allocations.ContainsKey("p"));
                Assert.Equal("unknown", ((Preview)Assert.Single(result.Output).BaseObject).State);
            }
            finally
            {
                sleeper.Kill();
            }
        }

        [Theory]
        [MemberData(nameof(EngineCase.ProcessEngine), MemberType = typeof(EngineCase))]
        public void A_recorded_process_whose_start_time_differs_is_a_reused_pid_and_never_killed(string row)
        {
            Use(row);
            using var sleeper = Process.Start(new ProcessStartInfo("sleep", "60"));
            try
            {
                var wrong = new DateTimeOffset(sleeper.StartTime).AddMinutes(-5);
                _state.Seed(s => s.Allocations["q"] = new AllocationRecord { AppId = "q", Port = 21672, Engine = EngineKind.Process, ProcessId = sleeper.Id, ProcessStartedAt = wrong });
                var allocation = Assert.IsType<PortAllocation>(Assert.Single(_ps.Run("Get-DyadPortAllocation q -Engine Process").Output).BaseObject);
                Assert.NotEqual(AllocationStatus.Active, allocation.Status);
                var stop = _ps.Run("Stop-DyadPreview q -Engine Process");
                Assert.Null(stop.AnyError);
                Assert.False(sleeper.HasExited);
                Assert.Contains(stop.Warnings, w => w.Contains($"pid {sleeper.Id} now belongs to another process", StringComparison.Ordinal));
            }
            finally
            {
                sleeper.Kill();
            }
        }

        [Theory]
        [MemberData(nameof(EngineCase.ProcessEngine), MemberType = typeof(EngineCase))]
        public void A_process_preview_that_exits_at_once_is_PreviewExitedEarly_and_leaves_nothing(string row)
        {
            Use(row);
            var folder = Directory.CreateDirectory(Path.Combine(_state.Temp.Directory, "app")).FullName;
            var launcher = _state.Launcher(null);
            var request = new PreviewRequest { AppId = "early", Path = folder, Command = new[] { "echo gone-$PORT; exit 3" }, Range = new PortRange(21673, 21680), Timeout = TimeSpan.FromSeconds(20) };
            var e = Assert.Throws<DyadPortsException>(() => launcher.Start(request, NullOperationLog.Instance, default));
            Assert.Equal(ErrorIds.PreviewExitedEarly, e.ErrorId);
            Assert.False(e.IsTerminating);
            Assert.False(_state.Peek()?.Allocations.ContainsKey("early") ?? false);
        }

        [Fact]
        public void A_process_preview_whose_log_cannot_be_opened_fails_that_app_alone_as_PreviewLogFailed()
        {
            Use("process/file");
            var folder = Directory.CreateDirectory(Path.Combine(_state.Temp.Directory, "app")).FullName;
            var log = Path.Combine(_state.ProcessLogFolder, "blocked.log");
            Directory.CreateDirectory(log); // a folder where the app's log goes
            var request = new PreviewRequest { AppId = "blocked", Path = folder, Command = new[] { "sleep 30" }, Range = new PortRange(21681, 21685), Timeout = TimeSpan.FromSeconds(20) };
            var e = Assert.Throws<DyadPortsException>(() => _state.Launcher(null).Start(request, NullOperationLog.Instance, default));
            Assert.Equal(ErrorIds.PreviewLogFailed, e.ErrorId);
            Assert.False(e.IsTerminating);
            Assert.Equal(log, e.Target);
            Assert.Contains("blocked", e.Message, StringComparison.Ordinal);
            Assert.False(_state.Peek()?.Allocations.ContainsKey("blocked") ?? false); // its reservation was given back
        }

        [Fact]
        public void A_start_on_an_etcd_state_leaves_no_lease_behind_when_the_command_ends()
        {
            // A start's reservation lives under the command's session lease until the start confirms it; the command's
            // end revokes that lease, so a shell does not keep one (and its keep-alive) alive per start it ever made.
            Use("process/etcd");
            var folder = Directory.CreateDirectory(Path.Combine(_state.Temp.Directory, "lease-app")).FullName;
            int Leases() => int.Parse(Regex.Match(Etcdctl.Run(TestEnvironment.Etcd, "lease", "list").EnsureSuccess().Output, @"found (\d+) leases").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            var before = Leases();
            var started = _ps.Run($"Start-DyadPreview lease-app -Path '{folder}' -Engine Process -Command 'sleep 30' -PortRange 21686-21689 -NoWait");
            Assert.Null(started.AnyError);
            try
            {
                Assert.Equal("lease-app", Assert.IsType<Preview>(Assert.Single(started.Output).BaseObject).AppId);
                Assert.Equal(before, Leases());
                Assert.False(_state.Peek().Allocations["lease-app"].Provisional); // confirmed: a plain key, which the lease never held
            }
            finally
            {
                Assert.Null(_ps.Run("Stop-DyadPreview lease-app -Engine Process").AnyError);
            }
        }

        [Fact]
        public void About_DyadPorts_classes_every_error_id_as_the_code_does()
        {
            var help = File.ReadAllText(Path.Combine(RepoFiles.Root, "src", "DyadPorts", "help", "about_DyadPorts.help.txt"));
            var rows = Regex.Matches(help, @"^\s{4}(\w+)\s+(terminating|non-terminating)\b", RegexOptions.Multiline)
                .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value == "terminating");
            Assert.Equal(ErrorIds.All.OrderBy(x => x), rows.Keys.OrderBy(x => x));
            foreach (var id in ErrorIds.All) Assert.True(rows[id] == ErrorIds.IsTerminating(id), $"{id}: the help says {(rows[id] ? "terminating" : "non-terminating")}");
        }
    }
}
