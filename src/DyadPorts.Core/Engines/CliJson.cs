using System;
using System.IO;
using System.Text.Json;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Engines
{
    /// <summary>
    /// Values out of the JSON files the engines' CLIs write (docker's config.json and context meta.json, podman 5's
    /// podman-connections.json, `podman machine inspect`), read as those CLIs mean them: a name looked up exactly, a missing
    /// or null value is null, a number or a boolean where a string goes is its text. A value of another shape (an object
    /// where a string goes, a string where an object goes) throws <see cref="FormatException"/>, which the caller turns into
    /// an error naming the file (<see cref="DockerCliConfig.Shaped"/>).
    /// </summary>
    internal static class CliJson
    {
        /// <summary>The file's top object; null when it is missing, unreadable, not JSON or not one object.</summary>
        public static JsonElement? Read(string path)
        {
            try
            {
                return File.Exists(path) ? Parse(File.ReadAllText(path), objectOnly: true) : null;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                return null;
            }
        }

        /// <summary>The text's top value (an object, or with <paramref name="objectOnly"/> false any value); null when it is not JSON.</summary>
        public static JsonElement? Parse(string text, bool objectOnly)
        {
            try
            {
                using (var document = JsonDocument.Parse(text, StateJson.Reading))
                {
                    var root = document.RootElement;
                    return objectOnly && root.ValueKind != JsonValueKind.Object ? null : root.Clone();
                }
            }
            catch (JsonException)
            {
                return null;
            }
        }

        /// <summary>The member <paramref name="name"/> of an object; null when the object is null or lacks it (or it is null).</summary>
        public static JsonElement? Member(JsonElement? value, string name)
        {
            if (value is not JsonElement o) return null;
            if (o.ValueKind != JsonValueKind.Object) throw new FormatException($"a JSON {StateJson.Kind(o)} where an object with '{name}' goes");
            return o.TryGetProperty(name, out var found) && found.ValueKind != JsonValueKind.Null ? found : null;
        }

        /// <summary>A string member; a number or boolean is its text (<see cref="StateJson.String"/>).</summary>
        public static string String(JsonElement? value, string name) => Member(value, name) is JsonElement v ? StateJson.String(v, name) : null;

        /// <summary>
        /// A boolean member; "true" or "false" in a string too, a number true unless 0. Not the state's reader: there "" is
        /// null, as Newtonsoft's serializer read it, where the CLI files' "" was an error, as JObject's conversion made it.
        /// </summary>
        public static bool? Boolean(JsonElement? value, string name) => Member(value, name) switch
        {
            null => null,
            JsonElement { ValueKind: JsonValueKind.True } => true,
            JsonElement { ValueKind: JsonValueKind.False } => false,
            JsonElement { ValueKind: JsonValueKind.Number } n => n.GetDouble() != 0,
            JsonElement { ValueKind: JsonValueKind.String } s when bool.TryParse(s.GetString(), out var b) => b,
            JsonElement other => throw new FormatException($"'{name}' is a JSON {StateJson.Kind(other)}, not true or false"),
        };
    }
}
