using System;
using System.Collections.Generic;
using System.Linq;
using Docker.DotNet.Models;
using DyadPorts.Core.Engines;
using DyadPorts.Core.State;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    public class EngineSnapshotTests
    {
        [Fact]
        public void The_substring_trap_does_not_spring_port_3210_is_not_32100()
        {
            var snapshot = new EngineSnapshot(new[]
            {
                new ContainerSummary { Id = "a", Name = "other", State = "running", Ports = PortBindingParser.FromList(new[] { new Port { PrivatePort = 3210, PublicPort = 3210, Type = "tcp" } }) },
            });
            Assert.Empty(snapshot.OnHostPort(32100));
            Assert.Single(snapshot.OnHostPort(3210));
        }

        /// <summary>
        /// The app index answers exactly what a scan of every container with <see cref="Ownership"/> answers, in the same
        /// order: for 2,000 seeded snapshots of containers labelled for several apps or none, managed or not, of this
        /// state, another, an adopted one or none (recorded by id or not), running or not, under older, equal or newer
        /// claims than their records', on the record's port or another.
        /// </summary>
        [Fact]
        public void The_apps_containers_from_the_index_are_the_ones_a_scan_of_every_container_finds()
        {
            var apps = new[] { "a", "b", "c", null };
            var states = new[] { Fixtures.Mine, "00000000000000bb", "00000000000000cc", null };
            var checkedApps = 0;
            for (var seed = 0; seed < 2000; seed++)
            {
                var random = new Random(seed);
                T Pick<T>(IReadOnlyList<T> from) => from[random.Next(from.Count)];
                var containers = new List<ContainerSummary>();
                for (var i = random.Next(0, 12); i > 0; i--)
                {
                    var c = Fixtures.Container(Pick(apps), Pick(new[] { "running", "exited", "created" }), Pick(states), managed: random.Next(4) > 0,
                        port: 21000 + random.Next(3), id: $"c{seed}-{containers.Count}");
                    if (random.Next(2) == 0) ((Dictionary<string, string>)c.Labels)[ContainerSummary.ClaimLabel] = random.Next(1, 4).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    containers.Add(c);
                }
                var state = Fixtures.State();
                if (random.Next(2) == 0) state.AdoptedStateIds.Add("00000000000000cc");
                foreach (var app in apps.Where(a => a != null && random.Next(3) > 0))
                {
                    state.Allocations[app] = new AllocationRecord
                    {
                        AppId = app,
                        Port = 21000 + random.Next(3),
                        ContainerId = containers.Count > 0 && random.Next(2) == 0 ? Pick(containers).Id : null,
                        ClaimRevision = random.Next(3) == 0 ? null : random.Next(1, 4),
                    };
                }
                var snapshot = new EngineSnapshot(containers);
                foreach (var app in apps.Append("absent"))
                {
                    var own = containers.Where(c => Ownership.IsAppsOwn(c, app, state)).OrderByDescending(c => c.IsRunning).Select(c => c.Id);
                    var any = containers.Where(c => Ownership.IsAppsOfAnyClaim(c, app, state)).OrderByDescending(c => c.IsRunning).Select(c => c.Id);
                    Assert.Equal(own, snapshot.ForApp(app, state).Select(c => c.Id));
                    Assert.Equal(any, snapshot.ForAppAnyClaim(app, state).Select(c => c.Id));
                    if (own.Any()) checkedApps++;
                }
            }
            Assert.True(checkedApps > 1000, $"only {checkedApps} app(s) had containers of their own: the seeds test too little");
        }
    }
}
