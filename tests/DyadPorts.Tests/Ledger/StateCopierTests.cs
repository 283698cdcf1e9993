using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Ledger;
using DyadPorts.Core.State;
using DyadPorts.Fleet;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Ledger
{
    /// <summary>
    /// Copy-DyadPortState's core over real ledgers: two state files, and a file into the shared etcd cluster and back.
    /// Ports 21850-21899 (only recorded, never bound).
    /// </summary>
    public sealed class StateCopierTests : IDisposable
    {
        private const string Remote = "tcp://10.9.8.7:2375";
        private readonly TempState _a = new TempState();
        private readonly TempState _b = new TempState();
        private readonly string _prefix = TestEtcd.NewPrefix();
        private readonly List<IDisposable> _opened = new List<IDisposable>();

        public void Dispose()
        {
            _a.Dispose();
            _b.Dispose();
            if (_opened.Count > 0) TestEtcd.DeletePrefix(_prefix);
            foreach (var d in _opened) d.Dispose();
        }

        private static FileLedger File(TempState temp) => new FileLedger(temp.Store, null);

        private EtcdLedger Etcd()
        {
            var ledger = new EtcdLedger(TestEtcd.Connect(_prefix), null, ownsCluster: true);
            _opened.Add(ledger);
            return ledger;
        }

        private static AllocationRecord Container(string appId, int port, string containerId = null, string endpoint = "unix:///run/docker.sock") => new AllocationRecord
        {
            AppId = appId, Port = port, Engine = EngineKind.Docker, EngineEndpoint = endpoint,
            AllocatedAt = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero), ContainerId = containerId, Image = "busybox:latest",
        };

        private static AllocationRecord Process(string appId, int port) => new AllocationRecord
        {
            AppId = appId, Port = port, Engine = EngineKind.Process, AllocatedAt = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
            ProcessId = 4242, ProcessStartedAt = new DateTimeOffset(2026, 1, 2, 3, 4, 6, TimeSpan.Zero), ProcessStartTicks = 987654,
        };

        private static void Plant(IAllocationLedger ledger, params AllocationRecord[] records) =>
            ledger.Transact((s, _) => { foreach (var r in records) s.Allocations[r.AppId] = r; return 0; }, NullOperationLog.Instance, default);

        private static StateCopyResult Copy(IAllocationLedger from, IAllocationLedger into, List<DyadPortsException> conflicts) =>
            new StateCopier(from, into).Copy(conflicts.Add, NullOperationLog.Instance, default);

        /// <summary>The record as JSON without its fleet host, which a copy adds to records that have none, and its claim, which each state gives its own.</summary>
        private static string Json(AllocationRecord r)
        {
            var copy = r.Copy();
            copy.Host = null;
            copy.ClaimRevision = null;
            return StateJson.Write(copy);
        }

        [Fact]
        public void A_file_state_is_copied_into_another_with_ports_previews_ownership_and_history()
        {
            var source = File(_a);
            Plant(source, Container("web", 21850, "c0ffee"), Process("proc", 21851), Container("remote", 21850, "beef", Remote));
            source.Transact((s, _) => s.Activity["web"] = new ActivitySample { At = DateTimeOffset.UnixEpoch, Preview = "c0ffee", Value = "3", Signal = ActivitySample.AcceptedSignal }, NullOperationLog.Instance, default);
            var sourceBytes = System.IO.File.ReadAllBytes(_a.StatePath);
            var sourceId = source.Read(NullOperationLog.Instance, default).StateId;

            var conflicts = new List<DyadPortsException>();
            var result = Copy(source, File(_b), conflicts);

            Assert.Empty(conflicts);
            Assert.True(result.Committed);
            Assert.Equal((3, 0, 0), (result.Copied, result.Identical, result.Conflicts));
            Assert.Equal(new[] { "proc", "remote", "web" }, result.CopiedApps);
            Assert.Equal(new[] { sourceId }, result.AdoptedStateIds);
            Assert.Equal(sourceBytes, System.IO.File.ReadAllBytes(_a.StatePath)); // the source is never written

            var copied = new StateStore(_b.StatePath).Peek();
            Assert.NotEqual(sourceId, copied.StateId); // the destination keeps its own id ...
            Assert.True(copied.Owns(sourceId)); // ... and adopts the source's
            foreach (var appId in new[] { "web", "proc", "remote" })
            {
                Assert.Equal(Json(_a.Store.Peek().Allocations[appId]), Json(copied.Allocations[appId]));
            }
            Assert.Equal("3", copied.Activity["web"].Value);
            Assert.Equal(MachineIdentity.Current.LocalHost, copied.Allocations["web"].Host); // a record of 0.3.0 gets this machine's host
            Assert.Equal(MachineIdentity.Current.LocalHost, copied.Allocations["proc"].Host);
            Assert.Equal("10.9.8.7", copied.Allocations["remote"].Host);
            Assert.Contains("\"adoptedStateIds\"", System.IO.File.ReadAllText(_b.StatePath), StringComparison.Ordinal);

            var history = File(_b).History(NullOperationLog.Instance, default);
            Assert.Equal(3, history.Count);
            Assert.All(history, e => Assert.Equal(PortEventKind.Allocated, e.Kind));
            Assert.All(history, e => Assert.Equal("copied from " + _a.StatePath, e.Reason));
            Assert.Equal(3, copied.Counters["Allocated"]);

            // Ownership follows the adopted id: a container labelled with the source's id belongs to the destination.
            var labelled = new ContainerSummary { Id = "c0ffee", Labels = new Dictionary<string, string> { [ContainerSummary.ManagedLabel] = "true", [ContainerSummary.AppIdLabel] = "web", [ContainerSummary.StateLabel] = sourceId } };
            Assert.True(Ownership.IsAppsOwn(labelled, "web", copied));
            Assert.False(Ownership.IsAppsOwn(labelled, "web", new StateDocument { StateId = copied.StateId }));

            // A second copy finds everything there already: nothing written, nothing recorded, nothing adopted again.
            var before = System.IO.File.ReadAllBytes(_b.StatePath);
            var again = Copy(source, File(_b), conflicts);
            Assert.Equal((0, 3, 0), (again.Copied, again.Identical, again.Conflicts));
            Assert.Empty(again.AdoptedStateIds);
            Assert.Equal(before, System.IO.File.ReadAllBytes(_b.StatePath));
            Assert.Equal(3, File(_b).History(NullOperationLog.Instance, default).Count);
        }

        [Fact]
        public void A_conflict_skips_its_record_with_its_own_error_and_the_rest_is_copied()
        {
            var source = File(_a);
            Plant(source, Container("same-app", 21855, "aaa"), Container("same-port", 21856, "bbb"), Container("fine", 21857, "ccc"),
                Container("other-preview", 21858, "ddd"), Container("identical", 21859, "eee"), Container("other-host", 21860, "fff", Remote));
            var destination = File(_b);
            Plant(destination, Container("same-app", 21865), Container("holder", 21856, "zzz"), Container("other-preview", 21858, "yyy"),
                Container("identical", 21859, "eee"), Container("local-holder", 21860, "xxx"));

            var conflicts = new List<DyadPortsException>();
            var result = Copy(source, destination, conflicts);

            Assert.Equal((2, 1, 3), (result.Copied, result.Identical, result.Conflicts));
            Assert.Equal(new[] { "fine", "other-host" }, result.CopiedApps); // the same port on another host is no conflict
            Assert.Equal(new[] { "other-preview", "same-app", "same-port" }, result.ConflictingApps);
            Assert.Equal(3, conflicts.Count);
            Assert.All(conflicts, e => Assert.Equal(ErrorIds.StateCopyConflict, e.ErrorId));
            Assert.All(conflicts, e => Assert.Equal(FailureCategory.ResourceExists, e.Category));
            Assert.All(conflicts, e => Assert.False(e.IsTerminating));
            Assert.Equal(result.ConflictingApps, conflicts.Select(e => (string)e.Target));
            Assert.Contains("port 21865", conflicts.Single(e => (string)e.Target == "same-app").Message, StringComparison.Ordinal);
            Assert.Contains("'holder'", conflicts.Single(e => (string)e.Target == "same-port").Message, StringComparison.Ordinal);

            var after = _b.Store.Peek();
            Assert.Equal(21865, after.Allocations["same-app"].Port); // the destination keeps what it had
            Assert.Equal("yyy", after.Allocations["other-preview"].ContainerId);
            Assert.False(after.Allocations.ContainsKey("same-port"));
            Assert.Equal("ccc", after.Allocations["fine"].ContainerId);
            Assert.True(after.Owns(_a.Store.Peek().StateId));
        }

        [Fact]
        public void The_same_port_on_another_host_or_another_machines_local_engine_is_no_conflict()
        {
            var source = File(_a);
            var elsewhere = Container("other-machine", 21871, "o1");
            elsewhere.Host = MachineIdentity.Prefix + "bbbb2222";
            Plant(source, Container("far", 21870, "f1", Remote), elsewhere, Container("here", 21871, "h0"));
            var destination = File(_b);
            Plant(destination, Container("near", 21870, "n1"), Container("local", 21871, "l1"));

            var conflicts = new List<DyadPortsException>();
            var result = Copy(source, destination, conflicts);

            Assert.Equal("here", Assert.Single(conflicts).Target); // this machine's local port 21871 is app local's
            Assert.Equal(2, result.Copied);
            Assert.Equal(new[] { "far", "local", "near", "other-machine" }, _b.Store.Peek().Allocations.Keys);
            Assert.Equal(MachineIdentity.Prefix + "bbbb2222", _b.Store.Peek().Allocations["other-machine"].Host);
        }

        [Fact]
        public void A_copy_that_fails_half_way_writes_nothing()
        {
            var source = File(_a);
            Plant(source, Container("one", 21875, "c1"), Container("two", 21876, "c2"), Container("three", 21877, "c3"));
            Plant(File(_b), Container("kept", 21878, "k1"));
            var before = System.IO.File.ReadAllBytes(_b.StatePath);
            var historyBefore = File(_b).History(NullOperationLog.Instance, default).Count;

            var failing = new FailingAfterTransaction(File(_b));
            Assert.Throws<IOException>(() => Copy(source, failing, new List<DyadPortsException>()));

            Assert.True(failing.Applied > 0, "the transaction ran and changed the document before the failure");
            Assert.Equal(before, System.IO.File.ReadAllBytes(_b.StatePath));
            Assert.Equal(historyBefore, File(_b).History(NullOperationLog.Instance, default).Count);
        }

        [Fact]
        public void A_missing_source_is_StateFileNotFound_and_a_plan_writes_nothing()
        {
            var missing = Path.Combine(_a.Directory, "nothing", "state.json");
            var e = Assert.Throws<DyadPortsException>(() => StateLedgers.Open(missing, mustExist: true, null));
            Assert.Equal(ErrorIds.StateFileNotFound, e.ErrorId);
            Assert.False(e.IsTerminating); // one piped source's: the next is still copied
            Assert.False(Directory.Exists(Path.GetDirectoryName(missing)));

            Assert.Equal(ErrorIds.StateLocationInvalid, Assert.Throws<DyadPortsException>(() => StateLedgers.Open("s3://bucket/state", true, null)).ErrorId);
            Assert.Equal(ErrorIds.StateLocationInvalid, Assert.Throws<DyadPortsException>(() => StateLedgers.Open(TestEtcd.Location(_prefix), true, null)).ErrorId);

            Plant(File(_a), Container("planned", 21880, "p1"));
            var destination = Path.Combine(_b.Directory, "new", "state.json");
            var plan = new StateCopier(StateLedgers.Open(_a.StatePath, true, null), StateLedgers.Open(destination, false, null)).Plan(NullOperationLog.Instance, default);
            Assert.Equal(1, plan.Copied);
            Assert.False(plan.Committed);
            Assert.False(Directory.Exists(Path.GetDirectoryName(destination)));

            // Under -WhatIf (Copy-DyadPortState -WhatIf) a file ledger says it writes nothing, and a copy into it is refused.
            var whatIf = StateLedgers.Open(destination, false, null, writesNothing: true);
            Assert.True(whatIf.WritesNothing);
            Assert.False(StateLedgers.Open(destination, false, null).WritesNothing);
            Assert.Throws<InvalidOperationException>(() => new StateCopier(StateLedgers.Open(_a.StatePath, true, null), whatIf).Copy(null, NullOperationLog.Instance, default));
            Assert.False(Directory.Exists(Path.GetDirectoryName(destination)));
        }

        [Fact]
        public void Adopted_ids_survive_the_file_and_an_old_file_reads_without_them()
        {
            var ledger = File(_a);
            ledger.Transact((s, _) => { s.AdoptedStateIds.Add("0123456789abcdef"); return 0; }, NullOperationLog.Instance, default);
            Assert.Equal(new[] { "0123456789abcdef" }, _a.Store.Peek().AdoptedStateIds);
            Assert.True(ledger.Read(NullOperationLog.Instance, default).Owns("0123456789abcdef"));

            // A state without adopted ids is written exactly as 0.3.0 wrote it; one written by 0.3.0 reads with none.
            Plant(File(_b), Container("plain", 21881));
            Assert.DoesNotContain("adoptedStateIds", System.IO.File.ReadAllText(_b.StatePath), StringComparison.Ordinal);
            var old = StateStore.Parse("{\"version\":2,\"stateId\":\"00000000aaaaaaaa\",\"allocations\":{}}", out _, out _);
            Assert.Empty(old.AdoptedStateIds);
            Assert.False(old.Owns("0123456789abcdef"));
        }

        [Fact]
        public void A_reservation_whose_start_never_finished_is_copied_into_etcd_as_a_plain_allocation_that_outlives_the_copy()
        {
            var file = File(_a);
            var reserved = Container("half-started", 21890);
            reserved.Provisional = true; // a start killed between its reservation and its preview
            Plant(file, reserved);
            var conflicts = new List<DyadPortsException>();
            using (var destination = new EtcdLedger(TestEtcd.Connect(_prefix), null, ownsCluster: true))
            {
                Assert.Equal(1, Copy(file, destination, conflicts).Copied);
            } // the copy's session lease ends with it, as Copy-DyadPortState's does
            Assert.Empty(conflicts);
            var copied = Etcd().Read(NullOperationLog.Instance, default).Allocations;
            Assert.True(copied.ContainsKey("half-started"), "the copied reservation vanished with the copy's lease");
            Assert.False(copied["half-started"].Provisional);
            Assert.Equal(21890, copied["half-started"].Port);
        }

        [Fact]
        public void A_copy_over_etcds_limit_on_one_transaction_is_StateStoreRefused_saying_so_and_writes_nothing()
        {
            // 60 apps: an app key, a claim and an event each, over etcd's default --max-txn-ops (128) in the one transaction.
            var fileA = File(_a);
            Plant(fileA, Enumerable.Range(0, 60).Select(i => Process($"many-{i}", 20720 + i)).ToArray());
            var conflicts = new List<DyadPortsException>();
            var e = Assert.Throws<DyadPortsException>(() => Copy(fileA, Etcd(), conflicts));
            Assert.Equal(ErrorIds.StateStoreRefused, e.ErrorId);
            Assert.Equal(FailureCategory.InvalidOperation, e.Category);
            Assert.Contains("too many operations in txn request", e.Message, StringComparison.Ordinal);
            Assert.Contains("--max-txn-ops", e.Message, StringComparison.Ordinal);
            Assert.Empty(Etcd().Read(NullOperationLog.Instance, default).Allocations);
        }

        [Fact]
        public void A_file_state_goes_into_etcd_and_back_with_a_conflict_each_way()
        {
            var fileA = File(_a);
            Plant(fileA, Container("web", 21885, "c0ffee"), Process("proc", 21886), Container("clash-app", 21887, "c1"), Container("clash-port", 21888, "c2"));
            var idA = fileA.Read(NullOperationLog.Instance, default).StateId;
            var etcd = Etcd();
            Plant(etcd, Container("clash-app", 21895, "e1")); // the same app with another port in the destination

            // File -> etcd.
            var conflicts = new List<DyadPortsException>();
            var into = Copy(fileA, etcd, conflicts);
            Assert.Equal((3, 0, 1), (into.Copied, into.Identical, into.Conflicts));
            Assert.Equal("clash-app", Assert.Single(conflicts).Target);
            var fleet = Etcd().Read(NullOperationLog.Instance, default);
            Assert.Equal(21895, fleet.Allocations["clash-app"].Port);
            foreach (var appId in new[] { "web", "proc", "clash-port" })
            {
                Assert.Equal(Json(_a.Store.Peek().Allocations[appId]), Json(fleet.Allocations[appId]));
            }
            Assert.True(fleet.Owns(idA));
            Assert.NotEqual(idA, fleet.StateId);
            var keys = TestEtcd.Dump(TrackedConnection(), _prefix).ToDictionary(kv => kv.Key.Substring(_prefix.Length), kv => kv.Value);
            Assert.Equal($"[\"{idA}\"]", keys["/meta/adopted-state-ids"]);
            Assert.Equal(3, Etcd().History(NullOperationLog.Instance, default).Count(e => e.Reason == "copied from " + _a.StatePath));

            // Etcd -> another file that holds one of the ports with another app.
            var fileB = File(_b);
            Plant(fileB, Container("squatter", 21888, "s1"));
            conflicts.Clear();
            var back = Copy(Etcd(), fileB, conflicts);
            Assert.Equal((3, 0, 1), (back.Copied, back.Identical, back.Conflicts));
            Assert.Equal("clash-port", Assert.Single(conflicts).Target);
            var restored = _b.Store.Peek();
            Assert.Equal(new[] { "clash-app", "proc", "squatter", "web" }, restored.Allocations.Keys);
            Assert.Equal(21895, restored.Allocations["clash-app"].Port);
            Assert.Equal(Json(_a.Store.Peek().Allocations["web"]), Json(restored.Allocations["web"]));
            Assert.True(restored.Owns(idA)); // the ids the source adopted come along
            Assert.True(restored.Owns(fleet.StateId));
            Assert.Equal(new[] { fleet.StateId, idA }.OrderBy(x => x, StringComparer.Ordinal), back.AdoptedStateIds.OrderBy(x => x, StringComparer.Ordinal));

            // And into etcd again: everything there is identical, and the conflicting record still conflicts.
            conflicts.Clear();
            var again = Copy(fileA, Etcd(), conflicts);
            Assert.Equal((0, 3, 1), (again.Copied, again.Identical, again.Conflicts));
        }

        private EtcdConnection TrackedConnection()
        {
            var connection = TestEtcd.Connect(_prefix);
            _opened.Add(connection);
            return connection;
        }

        /// <summary>A destination whose commit fails after the copy's transaction ran: a disk or a cluster failing at the last moment.</summary>
        private sealed class FailingAfterTransaction : LedgerDecorator
        {
            public FailingAfterTransaction(IAllocationLedger inner) : base(inner) { }

            public int Applied { get; private set; }

            public override T Transact<T>(LedgerTransaction<T> transaction, IOperationLog log, CancellationToken cancellationToken) =>
                Inner.Transact<T>((state, l) =>
                {
                    var count = state.Allocations.Count;
                    transaction(state, l);
                    Applied = state.Allocations.Count - count;
                    throw new IOException("the disk failed before the commit");
                }, log, cancellationToken);
        }
    }
}
