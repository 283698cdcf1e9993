using System;
using System.Collections.Generic;
using System.Linq;
using DyadPorts.Core.Engines;
using Xunit;

namespace DyadPorts.Tests.Support
{
    /// <summary>
    /// The one table of the engine tests' rows: each real engine (docker, podman) on each ledger (the state file, the
    /// fleet ledger on the shared etcd cluster). A theory takes a row's <see cref="Name"/> (a plain string, so xUnit
    /// lists each row as its own case) through <see cref="All"/>, or <see cref="FileOnly"/> for a test about the file
    /// itself, and opens the row's state with <see cref="EngineState.Use"/>. Tests with -Engine Process take
    /// <see cref="ProcessEngine"/> (the process engine on each ledger). A further axis (issue 18: the engine
    /// event feed on or off) is added here and only here: a field of the row, its rows in <see cref="Rows"/>, its part
    /// of <see cref="Name"/>, and what it changes in <see cref="Snapshots"/>.
    /// </summary>
    public sealed class EngineCase
    {
        public const string File = "file";
        public const string Etcd = "etcd";

        public const string Process = "process";

        private static readonly EngineCase[] Rows =
        {
            new EngineCase("docker", File),
            new EngineCase("docker", Etcd),
            new EngineCase("podman", File),
            new EngineCase("podman", Etcd),
        };

        /// <summary>The process engine (no container engine) on each ledger, for the tests of process previews and cmdlets run with -Engine Process.</summary>
        private static readonly EngineCase[] ProcessRows =
        {
            new EngineCase(Process, File),
            new EngineCase(Process, Etcd),
        };

        private EngineCase(string engine, string ledger)
        {
            EngineName = engine;
            LedgerName = ledger;
        }

        /// <summary>"docker" or "podman" (<see cref="TestEngine.Get"/>), or <see cref="Process"/>.</summary>
        public string EngineName { get; }

        /// <summary><see cref="File"/> or <see cref="Etcd"/>.</summary>
        public string LedgerName { get; }

        public bool OnEtcd => LedgerName == Etcd;

        /// <summary>The row as a theory shows it, e.g. "podman/etcd"; <see cref="Parse"/> reads it back.</summary>
        public string Name => EngineName + "/" + LedgerName;

        /// <summary>Every row's name, to combine with another axis of a test's own.</summary>
        public static IEnumerable<string> Names => Rows.Select(r => r.Name);

        /// <summary>Every row's name, to combine with another axis of a test's own, on the state file only.</summary>
        public static IEnumerable<string> FileNames => Rows.Where(r => !r.OnEtcd).Select(r => r.Name);

        /// <summary>MemberData of every row.</summary>
        public static IEnumerable<object[]> All => Names.Select(n => new object[] { n });

        /// <summary>MemberData of the rows on the state file, for a test about the file itself (say why where it is used).</summary>
        public static IEnumerable<object[]> FileOnly => FileNames.Select(n => new object[] { n });

        /// <summary>MemberData of the process engine on each ledger.</summary>
        public static IEnumerable<object[]> ProcessEngine => ProcessRows.Select(r => new object[] { r.Name });

        public static EngineCase Parse(string name) =>
            Rows.Concat(ProcessRows).FirstOrDefault(r => r.Name == name)
            ?? throw new ArgumentException($"No engine test row '{name}': the rows are {string.Join(", ", Rows.Concat(ProcessRows).Select(r => r.Name))}.", nameof(name));

        /// <summary>The row's engine, which fails the test when it does not answer; null for the process engine.</summary>
        public TestEngine Engine() => EngineName == Process ? null : TestEngine.Get(EngineName);

        /// <summary>
        /// The engine's snapshots for one allocator, as the session composes them (<paramref name="engine"/> null: the
        /// process engine). The event feed axis chooses its snapshots here.
        /// </summary>
        [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "The row decides (issue 18 adds the feed axis here).")]
        public EngineSnapshots Snapshots(TestEngine engine) => engine == null ? Snapshots(null, EngineKind.Process) : Snapshots(engine.Engine, engine.Kind);

        /// <summary>As <see cref="Snapshots(TestEngine)"/>, over an engine client of the test's own (null: the process engine).</summary>
        [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "The row decides (issue 18 adds the feed axis here).")]
        public EngineSnapshots Snapshots(ContainerEngine client, EngineKind kind) => new EngineSnapshots(client, client == null ? EngineKind.Process : kind);

        public override string ToString() => Name;
    }
}
