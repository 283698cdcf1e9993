using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>Engine tests share host ports and both engines, so they run one at a time.</summary>
    [CollectionDefinition(Name, DisableParallelization = true)]
    public sealed class EngineCollection
    {
        public const string Name = "Real engines";
    }
}
