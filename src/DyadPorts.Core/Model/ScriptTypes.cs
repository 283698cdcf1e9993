using System;
using DyadPorts.Core.Diagnostics;

namespace DyadPorts.Core
{
    /// <summary>
    /// The types a script names: what the cmdlets emit and take (namespace DyadPorts), the exceptions inside their
    /// errors, the category those carry and the ids they are written with. DyadPorts.Loader publishes a type accelerator
    /// for each, and only for these: naming every public type of this assembly made each import load all of them (114)
    /// for names no script uses. ScriptTypesTests keeps the list whole: every type a cmdlet emits or takes, and every
    /// type of this assembly their public properties hold, is in it.
    /// </summary>
    public static class ScriptTypes
    {
        public static Type[] All { get; } =
        {
            typeof(AgentEndpointInfo), typeof(AgentInfo), typeof(AgentStatus), typeof(AllocationStatus), typeof(AppMoves), typeof(EngineKind), typeof(PortAllocation),
            typeof(PortEvent), typeof(PortEventKind), typeof(PortHolderSource), typeof(PortStatus), typeof(PortUsage),
            typeof(Preview), typeof(StateCopyResult),
            typeof(DyadPortsException), typeof(EngineRefusedException), typeof(FailureCategory), typeof(ErrorIds),
        };
    }
}
