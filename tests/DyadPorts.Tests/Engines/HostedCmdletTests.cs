using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Previews;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>The cmdlets in PowerShell hosted in-process (Microsoft.PowerShell.SDK), against real engines. Ports 21200-21299.</summary>
    [Collection(EngineCollection.Name)]
    public sealed class HostedCmdletTests : IDisposable
    {
        private readonly EngineFixture _engines;
        private readonly EngineState _state = new EngineState();
        private readonly HostedPowerShell _ps = new HostedPowerShell();

        public HostedCmdletTests(EngineFixture engines)
        {
            _engines = engines;
            Environment.SetEnvironmentVariable("DYAD_PORTS_STATE", _state.Location);
        }

        public void Dispose()
        {
            Environment.SetEnvironmentVariable("DYAD_PORTS_STATE", null);
            Environment.SetEnvironmentVariable("DYAD_PORTS_ENGINE_FEED", null);
            ViewSettler.Unregister(DyadPorts.Infrastructure.ModuleSession.Current.Views);
            try
            {
                foreach (var name in new[] { "docker", "podman" }) _engines.Get(name).CleanUp();
            }
            finally
            {
                _ps.Dispose();
                _state.Dispose(); // its views too, even when a clean-up failed
            }
        }

        /// <summary>Runs the test on <paramref name="row"/>: the cmdlets find its state through DYAD_PORTS_STATE (a file or an etcd URL).</summary>
        private TestEngine Use(string row)
        {
            var engine = _state.Use(row);
            Environment.SetEnvironmentVariable("DYAD_PORTS_STATE", _state.Location);
            // The module's session is the process's: its views follow the feed setting of each command, and with the
            // feed on every change this test makes through its own client is waited for until they show it.
            Environment.SetEnvironmentVariable("DYAD_PORTS_ENGINE_FEED", _state.Case.FeedSetting);
            if (_state.Case.Feed) ViewSettler.Register(DyadPorts.Infrastructure.ModuleSession.Current.Views);
            return engine;
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void Request_and_test_emit_typed_objects_and_bools_through_the_pipeline(string row)
        {
            var engine = Use(row);
            engine.CleanUp();
            engine.Run(TestRun.App("hosted"), 21200);
            var vars = new Dictionary<string, object> { ["endpoint"] = engine.Endpoint, ["engine"] = engine.Name, ["app"] = TestRun.App("h1") };
            var result = _ps.Run("Request-DyadPort $app -PortRange 21200-21205 -EngineEndpoint $endpoint -Engine $engine", vars);
            Assert.Null(result.AnyError);
            var allocation = Assert.IsType<PortAllocation>(Assert.Single(result.Output).BaseObject);
            Assert.Equal(21201, allocation.Port);
            Assert.Equal(engine.Kind, allocation.Engine);

            var bools = _ps.Run("21200, 21201, 21202 | Test-DyadPortAvailable -EngineEndpoint $endpoint -Engine $engine", vars);
            Assert.Equal(new object[] { false, false, true }, bools.Output.Select(o => o.BaseObject));
            Assert.Equal(21201, _state.Peek().Allocations[TestRun.App("h1")].Port);
            _state.AssertStoredOnItsLedger();
        }

        [Fact]
        public void Core_failures_become_error_records_with_their_own_id_category_and_target()
        {
            var range = _ps.Run("Request-DyadPort r -PortRange 21999-21990 -Engine Process");
            Assert.Equal("InvalidPortRange,DyadPorts.Commands.RequestDyadPortCommand", range.AnyError.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidArgument, range.AnyError.CategoryInfo.Category);
            Assert.Equal("21999-21990", range.AnyError.TargetObject);

            var unreachable = _ps.Run("Get-DyadPortAllocation -EngineEndpoint unix:///tmp/dyadports-hosted-none.sock");
            Assert.StartsWith("EngineUnreachable,", unreachable.AnyError.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.ConnectionError, unreachable.AnyError.CategoryInfo.Category);

            var bad = _ps.Run("Request-DyadPort '$(id)' -Engine Process");
            Assert.Equal(ErrorCategory.InvalidData, bad.AnyError.CategoryInfo.Category);
            Assert.StartsWith("ParameterArgumentValidationError", bad.AnyError.FullyQualifiedErrorId);
            Assert.Null(_state.Peek());
        }

        [Theory]
        [MemberData(nameof(EngineCase.All), MemberType = typeof(EngineCase))]
        public void Losing_every_race_fails_with_PortConflictRetriesExhausted_and_leaves_nothing(string row)
        {
            var engine = Use(row);
            engine.CleanUp();
            var launcher = new StartHooks { BeforeLaunch = port => engine.Run(TestRun.App($"thief-{port}"), port) }
                .Wrap(_state.Allocator(engine));
            var request = new PreviewRequest
            {
                AppId = TestRun.App("69"), Path = _state.Temp.Directory, Image = engine.Image, Command = new[] { "httpd -f -p \"$PORT\" -h /app" },
                Range = new PortRange(21210, 21220), MaxRetries = 2,
            };
            var e = Assert.Throws<DyadPortsException>(() => launcher.Start(request, NullOperationLog.Instance, default));
            Assert.Equal(ErrorIds.PortConflictRetriesExhausted, e.ErrorId);
            Assert.Equal(FailureCategory.ResourceUnavailable, e.Category);
            Assert.Contains("21210, 21211", e.Message);
            Assert.Null(engine.Find("dyad-app-" + TestRun.App("69")));
            Assert.False(_state.Peek()?.Allocations.ContainsKey(TestRun.App("69")) ?? false);
        }
    }
}
