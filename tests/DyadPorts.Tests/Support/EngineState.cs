using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Availability;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Ledger;
using DyadPorts.Core.Previews;
using DyadPorts.Core.State;
using DyadPorts.Fleet;
using Xunit;

namespace DyadPorts.Tests.Support
{
    /// <summary>
    /// The one fixture of an engine test's state: a private folder (<see cref="Temp"/>) and the ledger of the test's
    /// <see cref="EngineCase"/> row, opened by <see cref="Use"/> at the top of the test: the state file in that folder,
    /// or a fresh prefix of the shared etcd cluster (deleted at the end; a silent cluster fails the test). Before
    /// <see cref="Use"/> (a Fact) it is the state file. Ledgers are opened as the session composes them
    /// (<see cref="Ledger(EngineSnapshots)"/>: a new instance per command, recovery from the command's engine); the
    /// state is seeded and read through a ledger too, never the file.
    /// </summary>
    public sealed class EngineState : IDisposable
    {
        private readonly List<EtcdLedger> _opened = new List<EtcdLedger>();
        private EtcdConnection _cluster;

        public TempState Temp { get; } = new TempState();

        /// <summary>The row the test runs on; null before <see cref="Use"/>.</summary>
        public EngineCase Case { get; private set; }

        private EngineViews _views;

        public bool OnEtcd => Case?.OnEtcd ?? false;

        /// <summary>The etcd prefix of an etcd row (null on the file).</summary>
        public string Prefix { get; private set; }

        /// <summary>What DYAD_PORTS_STATE says for this state: the file's path or the etcd URL.</summary>
        public string Location => OnEtcd ? TestEtcd.Location(Prefix) : Temp.StatePath;

        /// <summary>The folder process previews keep their logs in (the session's: beside the local state).</summary>
        public string ProcessLogFolder => ProcessPreviewHost.LogFolderIn(Temp.Directory);

        /// <summary>Opens the state of <paramref name="row"/> (an <see cref="EngineCase.Name"/>) and returns its engine, which must answer (null: the process engine).</summary>
        public TestEngine Use(string row)
        {
            if (Case != null) throw new InvalidOperationException($"This state already runs on {Case}.");
            var engineCase = EngineCase.Parse(row);
            var engine = engineCase.Engine();
            if (engineCase.OnEtcd)
            {
                Prefix = TestEtcd.NewPrefix();
                // As this machine: the state the commands under test read and write here, so what a test seeds is this machine's.
                var options = TestEtcd.Options();
                options.MachineId = DyadPorts.Fleet.FleetIdentity.MachineId();
                _cluster = TestEtcd.Connect(Prefix, options);
            }
            Case = engineCase;
            return engine;
        }

        /// <summary>The engine's snapshots as this row composes them (<paramref name="engine"/> null: the process engine).</summary>
        public EngineSnapshots Snapshots(TestEngine engine) => engine == null ? Snapshots(null, EngineKind.Process) : Snapshots(engine.Engine, engine.Kind);

        /// <summary>
        /// As <see cref="Snapshots(TestEngine)"/> over a client of the test's own. With the row's feed on, this state's
        /// own <see cref="EngineViews"/> (a session's, disposed with the state) has a live view of the client's endpoint
        /// before this returns, so every take reads the view, and <see cref="ViewSettler"/> waits after each change the
        /// test makes through another client until the view shows it (within the view's freshness bound).
        /// </summary>
        public EngineSnapshots Snapshots(ContainerEngine client, EngineKind kind)
        {
            if (client == null || !Row.Feed) return Row.Snapshots(client, kind, null);
            lock (_opened)
            {
                if (_views == null)
                {
                    _views = new EngineViews();
                    ViewSettler.Register(_views);
                }
            }
            ViewSettler.MakeLive(_views, client, kind);
            return Row.Snapshots(client, kind, _views);
        }

        private EngineCase Row => Case ?? EngineCase.Default;

        /// <summary>A new ledger instance with the recovery the session gives a command over <paramref name="engine"/>.</summary>
        public IAllocationLedger Ledger(EngineSnapshots engine) => Ledger(new LabelledContainerRecovery(engine, null, Location));

        /// <summary>A new ledger instance with <paramref name="recovery"/> (null: none, as for seeding and reading).</summary>
        public IAllocationLedger Ledger(IStateRecovery recovery)
        {
            if (!OnEtcd) return new FileLedger(new StateStore(Temp.StatePath), recovery);
            var ledger = new EtcdLedger(_cluster, recovery);
            lock (_opened) _opened.Add(ledger);
            return ledger;
        }

        /// <summary>A command's allocator over <paramref name="engine"/> (null: the process engine), as the session composes it.</summary>
        public PortAllocator Allocator(TestEngine engine, IHostPortProbe host = null)
        {
            var snapshots = Snapshots(engine);
            return new PortAllocator(Ledger(snapshots), snapshots, host == null ? null : () => host) { ProcessLogFolder = ProcessLogFolder };
        }

        /// <summary>An allocator over this state with <paramref name="client"/> (an engine client of the test's own) as its engine.</summary>
        public PortAllocator Allocator(ContainerEngine client, EngineKind kind)
        {
            var snapshots = Snapshots(client, kind);
            return new PortAllocator(Ledger(snapshots), snapshots) { ProcessLogFolder = ProcessLogFolder };
        }

        public PreviewLauncher Launcher(TestEngine engine) => new PreviewLauncher(Allocator(engine));

        /// <summary>Changes the stored state in one transaction (no recovery: exactly what the test says).</summary>
        public void Seed(Action<StateDocument> change) =>
            Ledger((IStateRecovery)null).Transact((state, _) => { change(state); return 0; }, NullOperationLog.Instance, default);

        /// <summary>The state as stored; null when nothing is.</summary>
        public StateDocument Peek() => Ledger((IStateRecovery)null).Peek();

        /// <summary>The state's history, oldest first.</summary>
        public IReadOnlyList<PortEvent> History() => Ledger((IStateRecovery)null).History(NullOperationLog.Instance, default);

        /// <summary>The id containers of this state carry (dyadports.state), whether or not anything is stored yet.</summary>
        public string StateId => Ledger((IStateRecovery)null).Read(NullOperationLog.Instance, default).StateId;

        /// <summary>
        /// Asserts that the state lives where the row says and nowhere else: keys under the etcd prefix and no state
        /// file, or the state file.
        /// </summary>
        public void AssertStoredOnItsLedger()
        {
            if (OnEtcd)
            {
                Assert.NotEmpty(TestEtcd.Dump(_cluster, Prefix));
                Assert.False(File.Exists(Temp.StatePath), "an etcd row wrote the state file");
            }
            else
            {
                Assert.True(File.Exists(Temp.StatePath), "a file row stored no state file");
            }
        }

        /// <summary>Everything stored, as text: the state file's, or every key and value under the etcd prefix.</summary>
        public string Stored() => OnEtcd
            ? string.Join("\n", TestEtcd.Dump(_cluster, Prefix).Select(kv => kv.Key + "=" + kv.Value))
            : File.ReadAllText(Temp.StatePath);

        public void Dispose()
        {
            if (_views != null)
            {
                ViewSettler.Unregister(_views);
                _views.Dispose();
            }
            lock (_opened)
            {
                foreach (var ledger in _opened) ledger.Dispose();
                _opened.Clear();
            }
            if (_cluster != null)
            {
                TestEtcd.DeletePrefix(Prefix);
                _cluster.Dispose();
            }
            Temp.Dispose();
        }
    }
}
