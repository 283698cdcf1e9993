using System;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.State;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace DyadPorts.Fleet
{
    /// <summary>
    /// An etcd value's records (<see cref="AllocationRecord"/>, <see cref="ActivitySample"/>) as the state file has them:
    /// the envelope around them (<see cref="StoredApp"/>, <see cref="StoredActivity"/>) is Newtonsoft's, each record inside is
    /// <see cref="StateJson"/>'s, so that a record has one JSON shape wherever it is kept. A record of another shape fails
    /// as any value that does not read does here, with a <see cref="JsonSerializationException"/>.
    /// </summary>
    internal sealed class StoredRecordConverter : JsonConverter
    {
        public override bool CanConvert(Type objectType) => objectType == typeof(AllocationRecord) || objectType == typeof(ActivitySample);

        public override void WriteJson(JsonWriter writer, object value, JsonSerializer serializer) =>
            writer.WriteRawValue(value switch
            {
                AllocationRecord record => StateJson.Write(record),
                ActivitySample sample => StateJson.Write(sample),
                _ => "null",
            });

        public override object ReadJson(JsonReader reader, Type objectType, object existingValue, JsonSerializer serializer)
        {
            // The record's text as stored: a date-like string (an image named like a time) stays the string it was.
            var dates = reader.DateParseHandling;
            reader.DateParseHandling = DateParseHandling.None;
            JToken token;
            try
            {
                token = JToken.Load(reader);
            }
            finally
            {
                reader.DateParseHandling = dates;
            }
            // Null, or an empty string, as Newtonsoft.Json read either for an object: no record (the value is then another tool's).
            if (token.Type == JTokenType.Null || token.Type == JTokenType.String && string.IsNullOrEmpty((string)token)) return null;
            try
            {
                using (var document = System.Text.Json.JsonDocument.Parse(token.ToString(Formatting.None), StateJson.Reading))
                {
                    return objectType == typeof(AllocationRecord) ? StateJson.ReadRecord(document.RootElement) : StateJson.ReadSample(document.RootElement);
                }
            }
            catch (Exception e) when (JsonShape.IsMismatch(e))
            {
                throw new JsonSerializationException($"The stored {(objectType == typeof(AllocationRecord) ? "allocation" : "activity sample")} does not read: {e.Message}", e);
            }
        }
    }
}
