using System;
using System.Collections.Generic;
using System.Linq;

namespace DyadPorts.Core.Engines
{
    /// <summary>
    /// Applies one container event to a view's map of containers by id (pure: the engine is asked only through
    /// <c>describe</c>, one inspect that gives the container as a list would show it, or null when it is gone).
    /// Every change sets what the engine says now, never a toggle, so events applied again, or applied after a list
    /// that already saw them, leave the map as the engine is once the later events are in.
    /// </summary>
    public static class EngineEventApplier
    {
        /// <returns>True when the map changed.</returns>
        public static bool Apply(IDictionary<string, ContainerSummary> map, ContainerEvent e, Func<string, ContainerSummary> describe)
        {
            ArgumentNullException.ThrowIfNull(map);
            ArgumentNullException.ThrowIfNull(describe);
            if (e == null) return false;
            if (e.Late && !IsRemoval(e.Action)) return Describe(map, e.Id, describe); // see NeedsLook
            switch (e.Action)
            {
                case "destroy": // dockerd
                case "remove":  // podman 4.3
                    return map.Remove(e.Id);
                case "create":  // bindings are in HostConfig only: one inspect per created container the view has not seen
                    return !map.ContainsKey(e.Id) && Describe(map, e.Id, describe);
                case "start":   // a binding to port 0 gets its host port now
                case "restart":
                case "die":
                case "stop":
                    return Describe(map, e.Id, describe);
                case "pause":
                    return map.ContainsKey(e.Id) ? Replace(map, e.Id, "paused", null) : Describe(map, e.Id, describe);
                case "unpause":
                    return map.ContainsKey(e.Id) ? Replace(map, e.Id, "running", null) : Describe(map, e.Id, describe);
                case "rename":
                    return map.ContainsKey(e.Id) && e.Name != null ? Replace(map, e.Id, null, e.Name) : Describe(map, e.Id, describe);
                default:
                    // exec, attach, health, init, cleanup, kill (die follows), update (no binding, label or name): nothing the
                    // allocator reads, unless the view never saw the container (an event it missed): then look.
                    return !map.ContainsKey(e.Id) && Describe(map, e.Id, describe);
            }
        }

        /// <summary>Whether <see cref="Apply"/> would look the container up (one inspect) for this event, given the map as it is.</summary>
        public static bool NeedsLook(IDictionary<string, ContainerSummary> map, ContainerEvent e)
        {
            ArgumentNullException.ThrowIfNull(map);
            if (e == null) return false;
            if (e.Late && !IsRemoval(e.Action)) return true; // maybe older than the map: only an inspect says what is now (a removal is final)
            switch (e.Action)
            {
                case "destroy":
                case "remove":
                    return false;
                case "create":
                    // A container is created once, before anything else happens to it: a view that holds it already (listed,
                    // or looked up since) learns nothing from its create. That is the stream's replay after a list.
                    return !map.ContainsKey(e.Id);
                case "start":
                case "restart":
                case "die":
                case "stop":
                    return true;
                case "rename":
                    return !(map.ContainsKey(e.Id) && e.Name != null);
                default: // pause and unpause too: in place when known
                    return !map.ContainsKey(e.Id);
            }
        }

        /// <summary>
        /// The events of one batch (what arrived while the view was busy), reduced to what a map needs, per container in
        /// the order of its last event: a container whose last event is its removal gets only that (no inspect for a
        /// container created and removed within the batch); one with a create, start, restart, die or stop gets one event
        /// that looks (the inspect gives its state after all of them, name and pause included); any other container keeps
        /// its events (a rename, pause or unpause applied in place; anything else looks only at an unknown container).
        /// A create looks only at a container the map does not hold (the stream's replay after a list holds it), so when
        /// a create is the last of them the events after it stay too, and a removal before it goes first: an id the
        /// engine gives again (podman's restore --import keeps a container's id) must not find its old entry.
        /// Applying the result leaves the map as applying every event would, with at most one inspect per container.
        /// </summary>
        public static IReadOnlyList<ContainerEvent> Coalesce(IReadOnlyList<ContainerEvent> batch)
        {
            ArgumentNullException.ThrowIfNull(batch);
            var byId = new Dictionary<string, List<ContainerEvent>>(StringComparer.Ordinal);
            var lastAt = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < batch.Count; i++)
            {
                var e = batch[i];
                if (e == null) continue;
                if (!byId.TryGetValue(e.Id, out var events)) byId[e.Id] = events = new List<ContainerEvent>();
                events.Add(e);
                lastAt[e.Id] = i;
            }
            var result = new List<ContainerEvent>(byId.Count);
            foreach (var id in lastAt.OrderBy(p => p.Value).Select(p => p.Key))
            {
                var events = byId[id];
                var last = events[events.Count - 1];
                if (IsRemoval(last.Action))
                {
                    result.Add(last);
                    continue;
                }
                var at = events.FindLastIndex(e => AlwaysLooks(e.Action));
                if (at < 0)
                {
                    result.AddRange(events);
                }
                else if (events[at].Action == "create")
                {
                    var removal = events.FindLastIndex(at, e => IsRemoval(e.Action));
                    if (removal >= 0) result.Add(events[removal]);
                    result.AddRange(events.Skip(at));
                }
                else
                {
                    result.Add(events[at]);
                }
            }
            return result;
        }

        /// <summary>
        /// A start (or restart): the container may now hold host ports it did not (an ephemeral -P or -p 80 binding is
        /// given at start), so a view still waiting for its inspect past the bound is behind, even for a container it has.
        /// A stop frees ports: waiting on its inspect (podman answers only once the stop has ended) holds none back.
        /// </summary>
        public static bool MayBind(string action) => action == "start" || action == "restart";

        /// <summary>dockerd's destroy or podman 4.3's remove: the container is gone.</summary>
        public static bool IsRemoval(string action) => action == "destroy" || action == "remove";

        private static bool AlwaysLooks(string action) => action == "create" || action == "start" || action == "restart" || action == "die" || action == "stop";

        private static bool Describe(IDictionary<string, ContainerSummary> map, string id, Func<string, ContainerSummary> describe) =>
            Described(map, id, describe(id));

        /// <summary>Sets what one inspect said of a container: <paramref name="now"/>, or gone when null.</summary>
        /// <returns>True when the map changed.</returns>
        public static bool Described(IDictionary<string, ContainerSummary> map, string id, ContainerSummary now)
        {
            ArgumentNullException.ThrowIfNull(map);
            if (now == null) return map.Remove(id);
            map[id] = now;
            return true;
        }

        /// <summary>A new summary, so a snapshot already handed out never changes under its reader.</summary>
        private static bool Replace(IDictionary<string, ContainerSummary> map, string id, string state, string name)
        {
            var old = map[id];
            map[id] = new ContainerSummary
            {
                Id = old.Id,
                Name = name ?? old.Name,
                State = state ?? old.State,
                Image = old.Image,
                Labels = old.Labels,
                Ports = old.Ports,
                Created = old.Created,
            };
            return true;
        }
    }
}
