using System;
using System.IO;

namespace DyadPorts.Fleet
{
    /// <summary>Who this operator is in a fleet (user@machine) and which machine it runs on (/etc/machine-id).</summary>
    public static class FleetIdentity
    {
        public static string Operator() => Environment.UserName + "@" + Environment.MachineName;

        /// <summary>/etc/machine-id (systemd), else /var/lib/dbus/machine-id, else the machine's name.</summary>
        public static string MachineId()
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
