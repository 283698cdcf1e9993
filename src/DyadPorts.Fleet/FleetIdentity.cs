using System;
using DyadPorts.Core.State;

namespace DyadPorts.Fleet
{
    /// <summary>Who this operator is in a fleet (user@machine) and which machine it runs on (/etc/machine-id).</summary>
    public static class FleetIdentity
    {
        public static string Operator() => StateDocument.OperatorName;

        /// <summary>/etc/machine-id (systemd), else /var/lib/dbus/machine-id, else the machine's name (<see cref="DyadPorts.Core.Engines.MachineIdentity.ReadMachineId"/>).</summary>
        public static string MachineId() => DyadPorts.Core.Engines.MachineIdentity.ReadMachineId();
    }
}
