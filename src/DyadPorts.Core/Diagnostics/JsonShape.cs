using System;
using Newtonsoft.Json;

namespace DyadPorts.Core.Diagnostics
{
    /// <summary>
    /// What Newtonsoft.Json throws when a value has another shape or size than the reader expects: a string where an
    /// object goes (InvalidOperationException from a token accessor), a null or fractional count, a number beyond a long.
    /// One list for every reader of files written by others (the state file, the engines' CLI files).
    /// </summary>
    internal static class JsonShape
    {
        public static bool IsMismatch(Exception e) =>
            e is JsonException || e is InvalidOperationException || e is ArgumentException || e is InvalidCastException || e is FormatException || e is OverflowException;
    }
}
