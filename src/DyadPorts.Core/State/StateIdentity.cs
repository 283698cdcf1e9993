using System;
using System.Collections.Generic;
using System.Linq;

namespace DyadPorts.Core.State
{
    /// <summary>
    /// A state's id and the ids it adopted (Copy-DyadPortState): what a rebuild is given, so that a state rebuilt from
    /// the engine's labels keeps the previews it took over, and the ids stay in the rebuilt state. Which containers
    /// that makes the state's own is <see cref="StateDocument.Owns"/>'s to say, once stamped (<see cref="Stamp"/>).
    /// </summary>
    public sealed class StateIdentity : IEquatable<StateIdentity>
    {
        private static readonly string[] None = Array.Empty<string>();

        public StateIdentity(string stateId, IEnumerable<string> adopted = null)
        {
            StateId = stateId ?? throw new ArgumentNullException(nameof(stateId));
            Adopted = (adopted ?? None).Where(id => !string.IsNullOrEmpty(id) && !string.Equals(id, stateId, StringComparison.Ordinal))
                .Distinct(StringComparer.Ordinal).OrderBy(id => id, StringComparer.Ordinal).ToArray();
        }

        public string StateId { get; }

        /// <summary>Other states' ids this state took over, sorted, without its own.</summary>
        public IReadOnlyList<string> Adopted { get; }

        /// <summary>Gives <paramref name="document"/> this identity: its id, and its adopted ids.</summary>
        public void Stamp(StateDocument document)
        {
            document.StateId = StateId;
            document.AdoptedStateIds = new SortedSet<string>(Adopted, StringComparer.Ordinal);
        }

        public bool Equals(StateIdentity other) =>
            other != null && string.Equals(StateId, other.StateId, StringComparison.Ordinal) && Adopted.SequenceEqual(other.Adopted, StringComparer.Ordinal);

        public override bool Equals(object obj) => Equals(obj as StateIdentity);

        public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(StateId);

        public override string ToString() => Adopted.Count == 0 ? StateId : $"{StateId} (adopted {string.Join(", ", Adopted)})";
    }
}
