using System;
using System.IO;
using System.Linq;
using System.Threading;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.State;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.State
{
    /// <summary>Per-app start locks on a fixed set of stripes: no lock file per app ever started, no self-deadlock.</summary>
    public class AppLocksTests
    {
        private static readonly TimeSpan Short = TimeSpan.FromSeconds(2);

        private static DyadPortsException TimedOut(string path, TimeSpan timeout) =>
            new DyadPortsException(ErrorIds.PreviewStartInProgress, FailureCategory.ResourceUnavailable, path, "timed out");

        [Fact]
        public void Locking_200_apps_leaves_at_most_the_stripe_count_of_lock_files()
        {
            using var temp = new TempState();
            for (var i = 0; i < 200; i++)
            {
                using (temp.Store.LockApp("app-" + i, Short, TimedOut, default)) { }
            }
            var locks = Directory.GetFiles(temp.Directory, "*.lock").Where(f => Path.GetFileName(f).Contains(".app-", StringComparison.Ordinal)).ToList();
            Assert.InRange(locks.Count, 2, AppLocks.Stripes);
            Assert.All(locks, f => Assert.Matches(@"state\.json\.app-\d\d\.lock$", f));
        }

        [Fact]
        public void A_stripe_is_the_same_in_every_process_and_spreads_apps()
        {
            // FNV-1a of the UTF-8 bytes, not string.GetHashCode (which differs in every process).
            Assert.Equal(5, AppLocks.StripeOf(""));
            Assert.Equal(9, AppLocks.StripeOf("my-app"));
            Assert.True(Enumerable.Range(0, 200).Select(i => AppLocks.StripeOf("app-" + i)).Distinct().Count() > AppLocks.Stripes / 2);
        }

        [Fact]
        public void One_thread_taking_two_apps_of_one_stripe_does_not_wait_on_itself()
        {
            using var temp = new TempState();
            var (a, b) = TwoAppsOnOneStripe();
            using (temp.Store.LockApp(a, Short, TimedOut, default))
            using (temp.Store.LockApp(b, Short, TimedOut, default))
            {
                // Another thread still waits for the stripe while this one holds it.
                Assert.IsType<DyadPortsException>(OnOtherThread(() => temp.Store.LockApp(b, TimeSpan.FromMilliseconds(200), TimedOut, default).Dispose()));
            }
            // Released fully: another thread gets it now.
            Assert.Null(OnOtherThread(() => temp.Store.LockApp(a, Short, TimedOut, default).Dispose()));
        }

        [Fact]
        public void The_inner_release_keeps_the_stripe_held_until_the_outer_one()
        {
            using var temp = new TempState();
            var (a, b) = TwoAppsOnOneStripe();
            var outer = temp.Store.LockApp(a, Short, TimedOut, default);
            temp.Store.LockApp(b, Short, TimedOut, default).Dispose();
            Assert.IsType<DyadPortsException>(OnOtherThread(() => temp.Store.LockApp(a, TimeSpan.FromMilliseconds(200), TimedOut, default).Dispose()));
            outer.Dispose();
            Assert.Null(OnOtherThread(() => temp.Store.LockApp(a, Short, TimedOut, default).Dispose()));
        }

        /// <summary>Runs on a thread of its own (the locks are per thread) and returns what it threw, if anything.</summary>
        private static Exception OnOtherThread(Action action)
        {
            Exception thrown = null;
            var thread = new Thread(() => thrown = Record.Exception(action));
            thread.Start();
            Assert.True(thread.Join(TimeSpan.FromSeconds(20)));
            return thrown;
        }

        private static (string, string) TwoAppsOnOneStripe()
        {
            var first = "app-0";
            for (var i = 1; ; i++)
            {
                if (AppLocks.StripeOf("app-" + i) == AppLocks.StripeOf(first)) return (first, "app-" + i);
            }
        }
    }
}
