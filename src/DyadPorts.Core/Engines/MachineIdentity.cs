using System;
using System.IO;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Engines
{
    /// <summary>
    /// This machine in a fleet, and the fleet host of a record: <c>machine:&lt;machine id&gt;</c> for a machine's local
    /// engines (unix sockets, named pipes, loopback) and its process previews, the remote engine's host name otherwise.
    /// Operators on one machine share its local host; two machines' local engines are two hosts. A record whose host is
    /// another machine's local host is read-only here: nothing on this machine can see or stop what it names.
    /// </summary>
    public sealed class MachineIdentity
    {
        /// <summary>What a machine's local host starts with.</summary>
        public const string Prefix = "machine:";

        private static readonly Lazy<MachineIdentity> s_current = new Lazy<MachineIdentity>(() => new MachineIdentity(ReadMachineId()));

        public MachineIdentity(string machineId)
        {
            if (string.IsNullOrWhiteSpace(machineId)) throw new ArgumentException("A machine id is needed.", nameof(machineId));
            MachineId = machineId.Trim();
            LocalHost = Prefix + MachineId;
        }

        /// <summary>This machine, by <see cref="ReadMachineId"/> (read once).</summary>
        public static MachineIdentity Current => s_current.Value;

        public string MachineId { get; }

        /// <summary>The fleet host of this machine's local engines and processes.</summary>
        public string LocalHost { get; }

        /// <summary>The fleet host an engine endpoint publishes into, seen from this machine.</summary>
        public string HostOf(string endpoint) => EngineHost.IsLocal(endpoint) ? LocalHost : EngineHost.Of(endpoint);

        /// <summary>A record's fleet host: the one stored in it, else (a record of 0.3.0 or older) the one its endpoint gives from here.</summary>
        public string HostOf(AllocationRecord record) => string.IsNullOrEmpty(record?.Host) ? HostOf(record?.EngineEndpoint) : record.Host;

        /// <summary>The machine id of the other machine whose local engine or process the record names; null when it is this machine's or a remote engine's.</summary>
        public string OtherMachine(AllocationRecord record)
        {
            var host = record?.Host;
            if (string.IsNullOrEmpty(host) || !host.StartsWith(Prefix, StringComparison.Ordinal) || string.Equals(host, LocalHost, StringComparison.Ordinal)) return null;
            return host.Substring(Prefix.Length);
        }

        /// <summary>/etc/machine-id (systemd), else /var/lib/dbus/machine-id, else the machine's name.</summary>
        public static string ReadMachineId()
        {
            foreach (var path in new[] { "/etc/machine-id", "/var/lib/dbus/machine-id" })
            {
                try
                {
                    if (File.Exists(path))
                    {
                        var id = File.ReadAllText(path).Trim();
                        if (id.Length > 0) return id;
                    }
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    // the next source
                }
            }
            return "name-" + Environment.MachineName.ToLowerInvariant();
        }
    }
}
