using Xunit;

namespace DyadPorts.Tests.Support
{
    /// <summary>
    /// The test classes that stop a listener of their own and then assert that its port is free. They run alone, after
    /// the parallel classes, because a child process that another test starts meanwhile holds the listener until it
    /// execs: .NET starts a process with vfork, and a socket's close-on-exec takes effect only at the exec, so a stop
    /// that falls in that window leaves the port listening, in the child, for as long as the child takes to get there.
    /// </summary>
    [CollectionDefinition(Name, DisableParallelization = true)]
    public sealed class HostListenerCollection
    {
        public const string Name = "Host listeners";

        /// <summary>For a failed "free after stop": who listens on the port now (the listener table, with the owner's pid).</summary>
        public static string StillHeld(int port) =>
            $"port {port} is not free after its listener stopped: {new DyadPorts.Core.Availability.TableHostPortProbe().DescribeHolder(port)} (this test process is pid {System.Environment.ProcessId})";
    }
}
