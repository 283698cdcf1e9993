using System;
using System.Collections.Generic;
using System.Linq;

namespace DyadPorts.Core.State
{
    /// <summary>
    /// Which containers are a state's own: those labelled with its id or with one of the ids it adopted
    /// (Copy-DyadPortState). What a rebuild is given, so that a state rebuilt from the engine's labels keeps the
    /// previews it took over, and the ids stay in the rebuilt state.
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

        public bool Owns(string stateId) =>
            stateId != null && (string.Equals(stateId, StateId, StringComparison.Ordinal) || Adopted.Contains(stateId, StringComparer.Ordinal));

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
