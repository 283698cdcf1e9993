using System;

namespace DyadPorts.Core.Session
{
    /// <summary>Reads the true/false settings users already have (AUTO_KILL_PORT, CONTAINERIZATION_ENABLED) one way.</summary>
    public static class EnvironmentFlags
    {
        /// <summary>true for true/1/yes, false for false/0/no (any case), null when unset or anything else.</summary>
        public static bool? Parse(string value)
        {
            switch (value?.Trim().ToLowerInvariant())
            {
                case "true": case "1": case "yes": return true;
                case "false": case "0": case "no": return false;
                default: return null;
            }
        }
    }
}
