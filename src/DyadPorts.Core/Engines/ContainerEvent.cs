using System;
using Docker.DotNet.Models;

namespace DyadPorts.Core.Engines
{
    /// <summary>
    /// One container event as both engines send it on /events: dockerd's and podman 4.3's compat stream alike give
    /// <c>Type</c> "container", <c>Action</c> (podman says "remove" where dockerd says "destroy"; dockerd adds details after
    /// a colon, "exec_start: sh", "health_status: healthy"), <c>Actor.ID</c> and <c>Actor.Attributes["name"]</c> (the new
    /// name after a rename; dockerd adds "oldName" with a slash).
    /// </summary>
    public sealed class ContainerEvent
    {
        public ContainerEvent(string id, string action, string name)
        {
            Id = id;
            Action = action;
            Name = name;
        }

        public string Id { get; }
        /// <summary>Lower case, without the details after a colon.</summary>
        public string Action { get; }
        /// <summary>The container's name when the event carries it (the new one after a rename), without a leading slash.</summary>
        public string Name { get; }

        /// <summary>
        /// Delivered by a catch-up, not by the stream: it may be older than what the view holds of its container (the stream
        /// dropped it and delivered a later one), so it is never applied in place; the container is inspected instead.
        /// </summary>
        public bool Late { get; init; }

        /// <summary>The event, or null for one that is not about a container or names none; <paramref name="late"/> for a catch-up's.</summary>
        public static ContainerEvent From(Message message, bool late = false)
        {
            if (message == null) return null;
            if (message.Type != null && !string.Equals(message.Type, "container", StringComparison.OrdinalIgnoreCase)) return null;
            var id = string.IsNullOrEmpty(message.Actor?.ID) ? message.ID : message.Actor.ID;
            var action = string.IsNullOrEmpty(message.Action) ? message.Status : message.Action;
            if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(action)) return null;
            var colon = action.IndexOf(':', StringComparison.Ordinal);
            if (colon >= 0) action = action.Substring(0, colon);
            string name = null;
            if (message.Actor?.Attributes != null && message.Actor.Attributes.TryGetValue("name", out var n) && !string.IsNullOrEmpty(n)) name = n.TrimStart('/');
            return new ContainerEvent(id, action.Trim().ToLowerInvariant(), name) { Late = late };
        }

        public override string ToString() => $"{Action} {Id}";
    }
}
