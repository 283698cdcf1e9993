using System;
using DyadPorts.Core.Session;

namespace DyadPorts.Infrastructure
{
    /// <summary>
    /// The module's composition root: the one <see cref="DyadSession"/> every cmdlet, completer, runspace and thread of
    /// the process shares, made with the process environment and the fleet's ledgers. DyadPorts.Fleet (and gRPC with
    /// it) is named only inside the lambda below, whose body the JIT compiles when the session first calls it, the first time
    /// a command uses an etcd state: a command on a file state never loads it. Like DyadPorts.Core, it binds in the
    /// module's own load context.
    /// </summary>
    public static class ModuleSession
    {
        public static readonly DyadSession Current = new DyadSession(Environment.GetEnvironmentVariable, null, () => new Fleet.FleetLedgers());
    }
}
