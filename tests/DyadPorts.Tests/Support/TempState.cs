using System;
using System.IO;
using DyadPorts.Core.State;

namespace DyadPorts.Tests.Support
{
    /// <summary>A private state file for one test, in a folder of its own in the run's temporary folder (<see cref="TestRun.TempRoot"/>).</summary>
    public sealed class TempState : IDisposable
    {
        public TempState()
        {
            Directory = TestRun.NewTempFolder("state");
            StatePath = Path.Combine(Directory, "state.json");
            Store = new StateStore(StatePath);
        }

        public string Directory { get; }
        public string StatePath { get; }
        public StateStore Store { get; }

        /// <summary>Plants a symlink at <paramref name="linkPath"/> to a new file "victim.txt" holding "precious"; returns the victim's path.</summary>
        public string PlantLink(string linkPath)
        {
            var victim = Path.Combine(Directory, "victim.txt");
            File.WriteAllText(victim, "precious");
            File.CreateSymbolicLink(linkPath, victim);
            return victim;
        }

        public void Dispose()
        {
            try { System.IO.Directory.Delete(Directory, true); } catch (IOException) { }
        }
    }
}
