using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet.Models;
using DyadPorts.Core.Engines;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>
    /// Podman 4.3 reads its whole events file for a catch-up and stops at until=, wherever it is: a catch-up whose read
    /// takes longer than its window returns the oldest events and not the newest, the ones it is for (found by a full CI
    /// run, where the busy-stream test below missed its create for 15 s; docs/bench/podman-catchup-cut-2026-12-01.txt).
    /// Here the proxy delays catch-ups until their until= has passed, so podman reads nothing however long the window;
    /// dockerd answers them from memory all the same. A create the stream never delivers is in the view all the same, with
    /// no list. Ports 23047-23050.
    /// </summary>
    [Collection(EngineCollection.Name)]
    public sealed class EngineViewCutCatchUpEngineTests
    {
        private readonly EngineFixture _engines;

        public EngineViewCutCatchUpEngineTests(EngineFixture engines) => _engines = engines;

        /// <summary>
        /// Three catch-ups in a row return nothing: not the quiet spell's create, and not a rename the stream delivered
        /// before them, so each is a proven cut. The view asks the next from the newest event a catch-up returned, not
        /// from the cut ones' until=, each at the next heartbeat with its window doubled (0.25, 0.5, 1 s, then 2 s), and
        /// the create is in the view from the first catch-up that reads. Asked from the cut ones' until= (a catch-up taken
        /// as proof of everything up to it), the create lies before every later catch-up's since= and is never in the view.
        /// A try during which the engine ended the view's stream is made again, once (as below).
        /// </summary>
        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public Task A_create_that_catch_ups_cut_short_missed_is_in_the_view_from_the_first_that_reads(string name)
        {
            var engine = _engines.Get(name);
            return ProxiedView.TriedAgainIfTheEngineEndedTheStream(attempt => CatchUpsCutShort(engine, attempt));
        }

        /// <returns>False when the engine ended the view's stream meanwhile: the try proved nothing about catch-ups.</returns>
        private static async Task<bool> CatchUpsCutShort(TestEngine engine, int attempt)
        {
            var missing = TestRun.App($"view-cut-missing-{attempt}");
            var heard = TestRun.App($"view-cut-heard-{attempt}");
            string missingId = null, heardId = null;
            try
            {
                heardId = engine.Run(heard, 23050, start: false);
                using var through = new ProxiedView(engine, proxy => proxy.DropFromEventStreams(line => line.Contains(missing, StringComparison.Ordinal)));
                // An event the stream delivers, so that the connection knows one inside what the catch-ups ask for.
                await engine.Client.Containers.RenameContainerAsync(heardId, new ContainerRenameParameters { NewName = heard + "-renamed" }, default).ConfigureAwait(false);
                through.WaitFor(TimeSpan.FromSeconds(5), s => s.Containers.Any(c => c.Id == heardId && c.Name == heard + "-renamed"));
                // Past the quiet spell's first catch-up, which returns the rename: the spell's repeats (the view is read) follow.
                Thread.Sleep(ViewTiming.QuietBeforeCatchUp + ViewTiming.HeartbeatInterval + ViewTiming.CatchUpWindow + TimeSpan.FromSeconds(1));
                const int cut = 3; // a fourth, at the longest window, would end the connection
                var delays = new System.Collections.Generic.List<TimeSpan>();
                through.Proxy.DelayRequests(EngineRequestLines.CatchUp.IsMatch, line =>
                {
                    var late = EngineRequestLines.PastUntil(line);
                    lock (delays) delays.Add(late);
                    return late;
                }, cut);
                // The create only once the first cut catch-up is under way: one already sent would read it.
                var clock = Stopwatch.StartNew();
                while (through.Proxy.DelayedRequests == 0 && clock.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(5);
                Assert.True(through.Proxy.DelayedRequests > 0, "no catch-up came to be delayed: the test would prove nothing");
                var lists = through.View.Lists;
                var dropped = through.Proxy.DroppedEvents;
                missingId = engine.Run(missing, 23047, start: false);

                // Each catch-up at a heartbeat, waiting out its window (0.25, 0.5, 1 s) and the delay's tenth of a second;
                // the one that reads, its inspect, and room for a loaded machine.
                var bound = (ViewTiming.HeartbeatInterval + TimeSpan.FromMilliseconds(100)) * (cut + 1) + ViewTiming.CatchUpWindow * 15 + TimeSpan.FromSeconds(3);
                var shown = through.WaitFor(bound, s => s.Containers.Any(c => c.Id == missingId));
                var wait = Stopwatch.StartNew();
                while (through.Proxy.DroppedEvents <= dropped && wait.Elapsed < TimeSpan.FromSeconds(3)) Thread.Sleep(20);
                if (through.EngineEndedStream) return false;
                Assert.True(through.Proxy.DroppedEvents > dropped, "the proxy took no create out of the stream: the test would prove nothing");
                Assert.True(shown <= bound, $"a create that catch-ups cut short missed is not in the view {shown.TotalSeconds:0.0} s after it (bound {bound.TotalSeconds:0.0} s; " +
                    $"{through.Proxy.DelayedRequests} catch-up(s) delayed, {through.View.Lists - lists} list(s), the view {(through.View.IsLive ? "live" : "not live")})");
                Assert.Equal(lists, through.View.Lists);
                if (engine.Kind == EngineKind.Podman)
                {
                    // Podman read nothing for the delayed ones: only a catch-up after them can have brought the create.
                    Assert.True(through.Proxy.DelayedRequests == cut, $"{through.Proxy.DelayedRequests} of {cut} catch-ups were delayed before the create was in the view: the test would prove nothing");
                    // Each cut one's window twice the one before: its until= lay that much further ahead.
                    lock (delays)
                    {
                        Assert.True(delays[1] - delays[0] > TimeSpan.FromMilliseconds(150) && delays[2] - delays[1] > TimeSpan.FromMilliseconds(300),
                            "the cut catch-ups' windows did not grow: " + string.Join(", ", delays.Select(d => $"{d.TotalMilliseconds:0} ms")));
                    }
                }
                return true;
            }
            finally
            {
                if (missingId != null) engine.Remove(missingId);
                if (heardId != null) engine.Remove(heardId);
            }
        }

        /// <summary>
        /// A stream that never goes quiet gets a catch-up only every <see cref="ViewTiming.BusyCatchUpRepeat"/>. When that
        /// one is cut short (it misses renames the stream delivered before it was sent), the view asks again at the next
        /// heartbeat, with a longer window, instead of 10 s later: the create the stream never delivered is in the view
        /// within a heartbeat or two of the busy repeat, with no list. Podman rewrites its events file at its size limit
        /// and ends every stream then, and the view rightly lists again; the busy renames can be what fills the file (a
        /// full CI run). A try the engine so cut short proves nothing about catch-ups and is made again, once.
        /// </summary>
        [Theory]
        [MemberData(nameof(TestEngine.Both), MemberType = typeof(TestEngine))]
        public void A_busy_streams_catch_up_cut_short_is_asked_again_at_the_next_heartbeat(string name)
        {
            var engine = _engines.Get(name);
            ProxiedView.TriedAgainIfTheEngineEndedTheStream(attempt => BusyCatchUpCutShort(engine, attempt));
        }

        /// <returns>False when the engine ended the view's stream meanwhile: the try proved nothing about catch-ups.</returns>
        private static bool BusyCatchUpCutShort(TestEngine engine, int attempt)
        {
            var missing = TestRun.App($"view-cut-busy-missing-{attempt}");
            var busy = TestRun.App($"view-cut-busy{attempt}");
            string busyId = null, missingId = null;
            try
            {
                busyId = engine.Run(busy, 23048, start: false);
                using var through = new ProxiedView(engine, proxy => proxy.DropFromEventStreams(line => line.Contains(missing, StringComparison.Ordinal)));
                using var renames = new BusyRenames(engine, busyId, busy);
                const int cut = 1;
                through.Proxy.DelayRequests(EngineRequestLines.CatchUp.IsMatch, EngineRequestLines.PastUntil, cut);
                var lists = through.View.Lists;
                missingId = engine.Run(missing, 23049, start: false);
                // The busy repeat, the cut catch-up (its 250 ms window and the delay's tenth), the next heartbeat's with twice the
                // window, its inspect, and room for a loaded machine: well under the next busy repeat, which is when a cut
                // catch-up not asked again would be followed.
                var bound = ViewTiming.BusyCatchUpRepeat + (ViewTiming.HeartbeatInterval + TimeSpan.FromMilliseconds(100)) * (cut + 1) + ViewTiming.CatchUpWindow * 3 + TimeSpan.FromSeconds(3);
                Assert.True(bound < ViewTiming.BusyCatchUpRepeat * 2, "the bound would not tell the next heartbeat from the next busy repeat");
                var shown = through.WaitFor(bound, s => s.Containers.Any(c => c.Id == missingId));
                if (through.EngineEndedStream) return false;
                Assert.True(shown <= bound, $"a create the busy stream never delivered is not in the view {shown.TotalSeconds:0.0} s after it (bound {bound.TotalSeconds:0.0} s; " +
                    $"{through.Proxy.DelayedRequests} catch-up(s) delayed, {through.View.Lists - lists} list(s), the view {(through.View.IsLive ? "live" : "not live")})");
                Assert.Equal(lists, through.View.Lists);
                Assert.False(renames.Stopped, $"the renames stopped: the stream may have gone quiet ({renames.Failure})");
                if (engine.Kind == EngineKind.Podman) Assert.Equal(cut, through.Proxy.DelayedRequests);
                return true;
            }
            finally
            {
                if (missingId != null) engine.Remove(missingId);
                if (busyId != null) engine.Remove(busyId);
            }
        }
    }
}
