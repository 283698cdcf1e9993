using System;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;

namespace DyadPorts.Core.Previews
{
    /// <summary>
    /// Reads a container's connection counters from /proc on this machine: /proc/&lt;pid&gt;/net/snmp and
    /// /proc/&lt;pid&gt;/net/tcp(6), where pid is the container's main process (State.Pid of inspect). Only when the
    /// numbers can be the container's: a local engine, its own network namespace, a live pid, and a pid whose
    /// cgroup names the container (checked before and after reading, as pids are reused). Otherwise it says why not.
    /// </summary>
    public sealed class ContainerConnectionReader
    {
        private readonly string _procRoot;

        /// <param name="procRoot">Where proc is mounted; "/proc" on Linux.</param>
        public ContainerConnectionReader(string procRoot = "/proc")
        {
            _procRoot = procRoot;
        }

        /// <summary>Whether the engine's containers can be processes of this machine: a unix socket on Linux. tcp://, ssh:// and npipe:// are not.</summary>
        public static bool IsLocalEndpoint(string endpoint) =>
            RuntimeInformation.IsOSPlatform(OSPlatform.Linux) && endpoint != null && endpoint.StartsWith("unix://", StringComparison.OrdinalIgnoreCase);

        /// <returns>The counters, or null with <paramref name="whyNot"/> saying why they cannot be known.</returns>
        public ConnectionCounters Read(string containerId, long pid, string networkMode, int port, out string whyNot)
        {
            if (string.Equals(networkMode, "host", StringComparison.OrdinalIgnoreCase))
            {
                whyNot = "it uses host networking, so its namespace's counters are the whole host's";
                return null;
            }
            if (networkMode != null && networkMode.StartsWith("container:", StringComparison.OrdinalIgnoreCase))
            {
                whyNot = $"it shares the network of another container ({networkMode}), whose connections would count as its own";
                return null;
            }
            if (pid <= 0)
            {
                whyNot = "the engine reports no process for it (pid 0: it is not running)";
                return null;
            }
            var folder = Path.Combine(_procRoot, pid.ToString(CultureInfo.InvariantCulture));
            try
            {
                if (!Directory.Exists(folder))
                {
                    whyNot = $"this machine has no process {pid} (the engine runs in a VM, such as Docker Desktop or a podman machine, or in another pid namespace)";
                    return null;
                }
                if (!IsContainers(folder, containerId, pid, out whyNot)) return null;
                var accepted = ProcNetText.PassiveOpens(File.ReadAllText(Path.Combine(folder, "net", "snmp")));
                var attached = ProcNetText.EstablishedTo(ReadOptional(Path.Combine(folder, "net", "tcp")), port) +
                    ProcNetText.EstablishedTo(ReadOptional(Path.Combine(folder, "net", "tcp6")), port);
                // The pid may have ended and been reused while the files were read: the cgroup must still be the container's.
                if (!IsContainers(folder, containerId, pid, out whyNot)) return null;
                if (accepted == null)
                {
                    whyNot = $"{Path.Combine(folder, "net", "snmp")} has no Tcp PassiveOpens counter";
                    return null;
                }
                whyNot = null;
                return new ConnectionCounters(accepted.Value, attached);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                whyNot = $"the counters of process {pid} cannot be read ({e.Message})";
                return null;
            }
        }

        private static bool IsContainers(string folder, string containerId, long pid, out string whyNot)
        {
            if (ProcNetText.CgroupNames(File.ReadAllText(Path.Combine(folder, "cgroup")), containerId))
            {
                whyNot = null;
                return true;
            }
            whyNot = $"process {pid} of this machine is not the container's (its cgroup does not name the container): the engine runs in a VM " +
                "(Docker Desktop, a podman machine) or another pid namespace, or the pid was reused";
            return false;
        }

        /// <summary>tcp6 is missing on a kernel without IPv6; a missing table has no connections.</summary>
        private static string ReadOptional(string path) => File.Exists(path) ? File.ReadAllText(path) : null;
    }
}
