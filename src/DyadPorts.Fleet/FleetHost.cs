using DyadPorts.Core.Engines;
using DyadPorts.Core.State;

namespace DyadPorts.Fleet
{
    /// <summary>
    /// Whose port space a record's port is in, across machines: <c>machine:&lt;machine id&gt;</c> for this machine's
    /// local engines (unix sockets, loopback) and process previews, else the remote engine endpoint's host.
    /// Operators on one machine share its local host; two machines' local engines are two hosts.
    /// </summary>
    public static class FleetHost
    {
        public static string Of(AllocationRecord record, string machineId)
        {
            if (!string.IsNullOrEmpty(record?.Host)) return record.Host; // stamped where the record was made (MachineIdentity)
            var host = EngineHost.Of(record?.EngineEndpoint);
            return host == EngineHost.Local ? "machine:" + machineId : host;
        }
    }
}
