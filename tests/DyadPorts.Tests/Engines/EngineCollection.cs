using System;
using DyadPorts.Tests.Support;
using Xunit;

namespace DyadPorts.Tests.Engines
{
    /// <summary>
    /// The one collection of the engine test classes: they share host ports and both engines, so they run one at a
    /// time, with one <see cref="EngineFixture"/>.
    /// </summary>
    [CollectionDefinition(Name, DisableParallelization = true)]
    public sealed class EngineCollection : ICollectionFixture<EngineFixture>
    {
        public const string Name = "Real engines";
    }

    /// <summary>
    /// Both real engines for the whole collection: created once, and at the end everything this run created is
    /// removed (<see cref="TestEngine.CleanUp"/>), nothing else.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "Instance members so that test classes take the fixture by constructor injection, as xUnit shares it.")]
    public sealed class EngineFixture : IDisposable
    {
        public TestEngine Docker => TestEngine.Get("docker");
        public TestEngine Podman => TestEngine.Get("podman");

        public TestEngine Get(string name) => TestEngine.Get(name);

        public void Dispose()
        {
            foreach (var name in new[] { "docker", "podman" })
            {
                if (TestEngine.TryGet(name, out var engine)) engine.CleanUp();
            }
        }
    }
}
