using System;

namespace DyadPorts.Core.Diagnostics
{
    /// <summary>
    /// What a JSON reader throws when a value has another shape or size than the reader expects: text that is not JSON
    /// (System.Text.Json's JsonException), a string where an object goes (InvalidOperationException from an accessor), a
    /// null, fractional or misspelt value (FormatException), a number beyond its type (OverflowException). One list for
    /// every reader of files and values written by others (the state file, its history, the engines' CLI files, the records
    /// inside an etcd state's values).
    /// </summary>
    internal static class JsonShape
    {
        public static bool IsMismatch(Exception e) =>
            e is System.Text.Json.JsonException || e is InvalidOperationException || e is ArgumentException ||
            e is InvalidCastException || e is FormatException || e is OverflowException;
    }
}
