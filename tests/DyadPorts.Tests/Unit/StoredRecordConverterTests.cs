using System;
using DyadPorts.Core.State;
using DyadPorts.Fleet;
using Newtonsoft.Json;
using Xunit;

namespace DyadPorts.Tests.Unit
{
    /// <summary>An etcd value's record: Newtonsoft's envelope, StateJson's record inside, with 0.5.0's reading of odd values.</summary>
    public class StoredRecordConverterTests
    {
        private const string Record = "{\"appId\":\"web\",\"port\":21000,\"engine\":\"Docker\",\"allocatedAt\":\"2026-12-02T07:25:14+00:00\",\"image\":\"2026-12-02T07:25:14Z\",\"HasPreview\":false}";

        [Fact]
        public void A_record_is_written_as_the_state_file_writes_it_and_reads_back_verbatim()
        {
            var app = JsonConvert.DeserializeObject<StoredApp>("{\"host\":\"h\",\"operator\":\"o\",\"nonce\":\"n\",\"record\":" + Record + "}", EtcdJson.Settings);
            Assert.Equal(("web", 21000, "2026-12-02T07:25:14Z"), (app.Record.AppId, app.Record.Port, app.Record.Image)); // a date-like string stays as it was
            Assert.Equal("{\"host\":\"h\",\"operator\":\"o\",\"nonce\":\"n\",\"record\":" + Record + "}", EtcdJson.Write(app));
            Assert.Equal(StateJson.Write(app.Record), StateJson.Write(EtcdJson.Copy(app).Record));
        }

        [Theory]
        [InlineData("null")]
        [InlineData("\"\"")]
        public void A_null_or_empty_record_is_no_record(string value) =>
            Assert.Null(JsonConvert.DeserializeObject<StoredApp>("{\"host\":\"h\",\"record\":" + value + "}", EtcdJson.Settings).Record);

        [Theory]
        [InlineData("\"web\"")]
        [InlineData("{\"port\":\"x\"}")]
        [InlineData("[1]")]
        public void A_record_of_another_shape_fails_as_any_value_that_does_not_read(string value)
        {
            var e = Assert.Throws<JsonSerializationException>(() => JsonConvert.DeserializeObject<StoredApp>("{\"host\":\"h\",\"record\":" + value + "}", EtcdJson.Settings));
            Assert.StartsWith("The stored allocation does not read: ", e.Message, StringComparison.Ordinal);
        }
    }
}
