using System;
using System.Collections.Generic;
using System.Linq;
using DyadPorts.Core.Engines;
using Xunit;

namespace DyadPorts.Tests.Support
{
    /// <summary>
    /// The one table of the engine tests' rows: each real engine (docker, podman) on each ledger (the state file, the
    /// fleet ledger on the shared etcd cluster), and on the state file with the engine event feed on and off (issue 18:
    /// the etcd rows run with the default, on). A theory takes a row's <see cref="Name"/> (a plain string, so xUnit
    /// lists each row as its own case) through <see cref="All"/>, or <see cref="FileOnly"/> for a test about the file
    /// itself, and opens the row's state with <see cref="EngineState.Use"/>. Tests with -Engine Process take
    /// <see cref="ProcessEngine"/> (the process engine on each ledger). The feed decides in
    /// <see cref="Snapshots(ContainerEngine, EngineKind, EngineViews)"/>: with it on, the row's allocators read the
    /// test's own <see cref="EngineViews"/>, which <see cref="EngineState"/> makes live before the first command.
    /// </summary>
    public sealed class EngineCase
    {
        public const string File = "file";
        public const string Etcd = "etcd";

        public const string Process = "process";

        private static readonly EngineCase[] Rows =
        {
            new EngineCase("docker", File, true),
            new EngineCase("docker", File, false),
            new EngineCase("docker", Etcd, true),
            new EngineCase("podman", File, true),
            new EngineCase("podman", File, false),
            new EngineCase("podman", Etcd, true),
        };

        /// <summary>The process engine (no container engine) on each ledger, for the tests of process previews and cmdlets run with -Engine Process.</summary>
        private static readonly EngineCase[] ProcessRows =
        {
            new EngineCase(Process, File, false),
            new EngineCase(Process, Etcd, false),
        };

        private EngineCase(string engine, string ledger, bool feed)
        {
            EngineName = engine;
            LedgerName = ledger;
            Feed = feed;
        }

        /// <summary>"docker" or "podman" (<see cref="TestEngine.Get"/>), or <see cref="Process"/>.</summary>
        public string EngineName { get; }

        /// <summary><see cref="File"/> or <see cref="Etcd"/>.</summary>
        public string LedgerName { get; }

        public bool OnEtcd => LedgerName == Etcd;

        /// <summary>Whether the engine event feed is on (DYAD_PORTS_ENGINE_FEED): allocations read a live view, not a list call.</summary>
        public bool Feed { get; }

        /// <summary>The row as a theory shows it, e.g. "podman/file/feed-off"; <see cref="Parse"/> reads it back.</summary>
        public string Name => EngineName + "/" + LedgerName + (EngineName == Process ? "" : Feed ? "/feed-on" : "/feed-off");

        /// <summary>What DYAD_PORTS_ENGINE_FEED says for this row.</summary>
        public string FeedSetting => Feed ? "on" : "off";

        /// <summary>Every row's name, to combine with another axis of a test's own.</summary>
        public static IEnumerable<string> Names => Rows.Select(r => r.Name);

        /// <summary>Every row's name, to combine with another axis of a test's own, on the state file only.</summary>
        public static IEnumerable<string> FileNames => Rows.Where(r => !r.OnEtcd).Select(r => r.Name);

        /// <summary>MemberData of every row.</summary>
        public static IEnumerable<object[]> All => Names.Select(n => new object[] { n });

        /// <summary>MemberData of the rows on the state file, for a test about the file itself (say why where it is used).</summary>
        public static IEnumerable<object[]> FileOnly => FileNames.Select(n => new object[] { n });

        /// <summary>MemberData of the rows whose allocations list the engine (the feed off), for a test about the list call itself.</summary>
        public static IEnumerable<object[]> Listing => Rows.Where(r => !r.Feed).Select(r => new object[] { r.Name });

        /// <summary>MemberData of the rows on the fleet ledger, for a test about the fleet itself (claims, other machines' records).</summary>
        public static IEnumerable<object[]> Fleet => Rows.Where(r => r.OnEtcd).Select(r => new object[] { r.Name });

        /// <summary>MemberData of the process engine on each ledger.</summary>
        public static IEnumerable<object[]> ProcessEngine => ProcessRows.Select(r => new object[] { r.Name });

        /// <summary>The row of a test that takes none (a [Fact]): the state file, and allocations that list.</summary>
        public static EngineCase Default => Rows.First(r => !r.OnEtcd && !r.Feed);

        public static EngineCase Parse(string name) =>
            Rows.Concat(ProcessRows).FirstOrDefault(r => r.Name == name)
            ?? throw new ArgumentException($"No engine test row '{name}': the rows are {string.Join(", ", Rows.Concat(ProcessRows).Select(r => r.Name))}.", nameof(name));

        /// <summary>The row's engine, which fails the test when it does not answer; null for the process engine.</summary>
        public TestEngine Engine() => EngineName == Process ? null : TestEngine.Get(EngineName);

        /// <summary>
        /// The engine's snapshots for one allocator, as the session composes them (<paramref name="client"/> null: the
        /// process engine): through <paramref name="views"/> when the row's feed is on, else one list call per take.
        /// </summary>
        public EngineSnapshots Snapshots(ContainerEngine client, EngineKind kind, EngineViews views) =>
            client == null ? new EngineSnapshots(null, EngineKind.Process) : new EngineSnapshots(client, kind, Feed ? views : null);

        public override string ToString() => Name;
    }
}
