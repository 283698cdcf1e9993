using System;
using System.Collections.Generic;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Ledger;
using DyadPorts.Core.Session;
using DyadPorts.Core.State;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary>
    /// DYAD_PORTS_STATE resolved once per command (<see cref="DyadSettings.State"/>) and the ledger the session opens
    /// for it: a file, the fleet's through <see cref="IFleetLedgers"/>, or a refusal. Nothing here touches a disk or a network.
    /// </summary>
    public sealed class StateChoiceTests
    {
        private static Func<string, string> Env(Dictionary<string, string> variables) => name => variables.TryGetValue(name, out var value) ? value : null;

        private static DyadSettings Settings(string state, string stateHome = "/home/u/.state") =>
            new DyadSettings(Env(new Dictionary<string, string> { ["DYAD_PORTS_STATE"] = state, ["XDG_STATE_HOME"] = stateHome }));

        [Fact]
        public void A_path_is_a_file_location_and_its_folder_is_the_local_one()
        {
            var settings = Settings("/srv/dyad/state.json");
            Assert.Equal(StateLocationKind.File, settings.State.Kind);
            Assert.Equal("/srv/dyad/state.json", settings.State.Path);
            Assert.Equal("/srv/dyad", settings.LocalFolder);
        }

        [Fact]
        public void An_etcd_url_is_an_etcd_location_with_no_path_and_the_per_user_folder_for_local_files()
        {
            var settings = Settings(" etcd://127.0.0.1:2379,127.0.0.1:2380/team ");
            Assert.True(settings.State.IsEtcd);
            Assert.Equal("etcd://127.0.0.1:2379,127.0.0.1:2380/team", settings.State.Text);
            Assert.Null(settings.StatePath);
            if (!OperatingSystem.IsWindows()) Assert.Equal("/home/u/.state/dyadports", settings.LocalFolder);
        }

        [Theory]
        [InlineData("consul://x")]
        [InlineData("file:///tmp/state.json")]
        public void An_unknown_scheme_fails_only_the_commands_that_read_the_state(string state)
        {
            var settings = Settings(state);
            Assert.Equal(PortRangeDefault(), settings.Range); // resolving the settings did not fail
            var e = Assert.Throws<DyadPortsException>(() => settings.State);
            Assert.Equal(ErrorIds.StateLocationInvalid, e.ErrorId);
            Assert.True(e.IsTerminating);
            Assert.Throws<DyadPortsException>(() => settings.StatePath);
        }

        [Fact]
        public void The_session_opens_the_fleet_ledger_for_an_etcd_location_with_the_recovery_for_it()
        {
            var fleet = new RecordingFleet();
            var session = new DyadSession(Env(new Dictionary<string, string>()), null, () => fleet);
            var settings = Settings("etcds://h:2379/p");
            string recoveredFor = null;
            var ledger = session.Ledger(settings, location => { recoveredFor = location; return null; });
            Assert.Same(fleet.Opened, ledger);
            Assert.Equal("etcds://h:2379/p", fleet.Location.Text);
            Assert.Same(settings, fleet.Settings);
            Assert.Equal("etcds://h:2379/p", recoveredFor);
        }

        [Fact]
        public void The_fleet_factory_runs_only_for_an_etcd_location_and_once()
        {
            var made = 0;
            var session = new DyadSession(Env(new Dictionary<string, string>()), null, () => { made++; return new RecordingFleet(); });
            Assert.IsType<FileLedger>(session.Ledger(Settings("/tmp/never-written/state.json"), _ => null));
            Assert.Equal(0, made);
            session.Ledger(Settings("etcd://h:2379"), _ => null);
            session.Ledger(Settings("etcd://h:2379/other"), _ => null);
            Assert.Equal(1, made);
        }

        [Fact]
        public void A_session_without_a_fleet_refuses_an_etcd_location_and_never_falls_back_to_a_file()
        {
            var session = new DyadSession(Env(new Dictionary<string, string>()));
            var e = Assert.Throws<DyadPortsException>(() => session.Ledger(Settings("etcd://h:2379"), _ => null));
            Assert.Equal(ErrorIds.StateLocationInvalid, e.ErrorId);
        }

        /// <summary>A command under -WhatIf gets ledgers that write nothing, both its own state's and the ones it is given (Copy-DyadPortState).</summary>
        [Fact]
        public void The_settings_of_a_command_under_WhatIf_open_ledgers_that_write_nothing()
        {
            var session = new DyadSession(Env(new Dictionary<string, string> { ["DYAD_PORTS_STATE"] = "/tmp/never-written/state.json" }));
            Assert.True(session.Ledger(session.Settings(writesNothing: true), _ => null).WritesNothing);
            Assert.False(session.Ledger(session.Settings(), _ => null).WritesNothing);
            Assert.True(session.OpenLedger(session.Settings(writesNothing: true), "/tmp/never-written/other.json", mustExist: false).WritesNothing);
            Assert.False(session.OpenLedger(session.Settings(), "/tmp/never-written/other.json", mustExist: false).WritesNothing);
            Assert.False(System.IO.Directory.Exists("/tmp/never-written"));
        }

        private static Core.Allocation.PortRange PortRangeDefault() => Core.Allocation.PortRange.Default;

        private sealed class RecordingFleet : IFleetLedgers
        {
            public StateLocation Location { get; private set; }
            public DyadSettings Settings { get; private set; }
            public IAllocationLedger Opened { get; } = new FileLedger(new StateStore("/nonexistent/fleet-fake/state.json"), null);

            public IAllocationLedger Open(StateLocation location, DyadSettings settings, IStateRecovery recovery)
            {
                Location = location;
                Settings = settings;
                return Opened;
            }
        }
    }
}
