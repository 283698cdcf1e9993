using System;
using System.Collections.Generic;
using System.Linq;
using DyadPorts.Core.State;
using Xunit;

namespace DyadPorts.Tests.State
{
    /// <summary>
    /// The state's maps (OrdinalDictionary): the dictionary behaviour the state's code relies on, in the order
    /// SortedDictionary with StringComparer.Ordinal gave, checked against that dictionary on the same operations.
    /// </summary>
    public class OrdinalDictionaryTests
    {
        [Fact]
        public void It_enumerates_in_the_order_of_an_ordinal_sorted_dictionary_through_every_change()
        {
            var random = new Random(18);
            var map = new OrdinalDictionary<long>();
            var reference = new SortedDictionary<string, long>(StringComparer.Ordinal);
            // Names whose ordinal order differs from the culture's: case, accents, digits, punctuation, surrogates.
            var names = new[] { "a", "B", "b", "Z", "é", "e", "10", "9", "app-1", "app_1", "App", "", "\U0001F600", "\uFFFD", "a b", "ab" };
            for (var step = 0; step < 2000; step++)
            {
                var name = names[random.Next(names.Length)] + (random.Next(4) == 0 ? random.Next(30).ToString(System.Globalization.CultureInfo.InvariantCulture) : "");
                switch (random.Next(4))
                {
                    case 0:
                        Assert.Equal(reference.Remove(name), map.Remove(name));
                        break;
                    case 1:
                        if (reference.TryAdd(name, step)) map.Add(name, step);
                        else Assert.Throws<ArgumentException>(() => map.Add(name, step));
                        break;
                    default:
                        reference[name] = step;
                        map[name] = step;
                        break;
                }
                Assert.Equal(reference.Count, map.Count);
            }
            Assert.Equal(reference.ToList(), map.ToList());
            Assert.Equal(reference.Keys, map.Keys);
            Assert.Equal(reference.Values, map.Values);
            foreach (var (name, value) in reference)
            {
                Assert.True(map.ContainsKey(name));
                Assert.True(map.TryGetValue(name, out var found));
                Assert.Equal(value, found);
                Assert.Equal(value, map[name]);
            }
            Assert.False(map.TryGetValue("absent", out var none));
            Assert.Equal(0, none);
            Assert.Throws<KeyNotFoundException>(() => map["absent"]);
        }

        public static TheoryData<string> Changes => new TheoryData<string> { "remove", "set an existing name", "set a new name", "add", "clear" };

        private static void Change(OrdinalDictionary<string> map, string change)
        {
            switch (change)
            {
                case "remove": map.Remove("a"); break;
                case "set an existing name": map["b"] = "changed"; break;
                case "set a new name": map["d"] = "4"; break;
                case "add": map.Add("e", "5"); break;
                case "clear": map.Clear(); break;
                default: throw new ArgumentOutOfRangeException(nameof(change));
            }
        }

        /// <summary>As SortedDictionary: a walk of the map, of its names or of its values fails once the map changed.</summary>
        [Theory, MemberData(nameof(Changes))]
        public void A_change_during_a_walk_of_the_map_its_names_or_its_values_fails_the_walk(string change)
        {
            foreach (var walk in new Func<OrdinalDictionary<string>, System.Collections.IEnumerable>[] { m => m, m => m.Keys, m => m.Values })
            {
                var map = new OrdinalDictionary<string> { ["b"] = "2", ["a"] = "1", ["c"] = "3" };
                var steps = 0;
                Assert.Throws<InvalidOperationException>(() =>
                {
                    foreach (var item in walk(map))
                    {
                        steps++;
                        Change(map, change);
                    }
                });
                Assert.Equal(1, steps);
            }
        }

        [Fact]
        public void Its_names_and_values_are_read_only_views_that_follow_the_map()
        {
            var map = new OrdinalDictionary<string>();
            Assert.Empty(map);
            Assert.Empty(map.Keys);
            Assert.Empty(map.Values);
            var keys = map.Keys;
            var values = map.Values;
            map["b"] = "2";
            map["a"] = "1";
            Assert.Equal(new[] { "a", "b" }, keys);
            Assert.Equal(new[] { "1", "2" }, values);
            Assert.Equal("b", keys[1]);
            Assert.Throws<ArgumentOutOfRangeException>(() => values[2]);
            var collection = (ICollection<string>)values;
            Assert.True(collection.IsReadOnly);
            Assert.True(collection.Contains("2"));
            Assert.False(collection.Contains("3"));
            Assert.Throws<NotSupportedException>(() => collection.Add("3"));
            Assert.Throws<NotSupportedException>(() => collection.Remove("2"));
            Assert.Throws<NotSupportedException>(() => ((ICollection<string>)keys).Clear());
            var copy = new string[3];
            collection.CopyTo(copy, 1);
            Assert.Equal(new[] { null, "1", "2" }, copy);
            foreach (var name in keys.ToList()) map.Remove(name); // a copy of the view: removing while walking it is fine
            Assert.Empty(map);
            Assert.Empty(keys);
        }

        [Fact]
        public void It_is_a_dictionary_to_code_that_takes_one()
        {
            var map = new OrdinalDictionary<long>(new[] { new KeyValuePair<string, long>("y", 1), new KeyValuePair<string, long>("x", 2), new KeyValuePair<string, long>("y", 3) });
            IDictionary<string, long> dictionary = map;
            Assert.Equal(new[] { "x", "y" }, dictionary.Keys);
            Assert.Equal(new[] { 2L, 3L }, dictionary.Values);
            Assert.Contains(new KeyValuePair<string, long>("y", 3), dictionary);
            Assert.DoesNotContain(new KeyValuePair<string, long>("y", 1), dictionary);
            Assert.False(dictionary.Remove(new KeyValuePair<string, long>("y", 1)));
            var copy = new SortedDictionary<string, long>(dictionary, StringComparer.Ordinal);
            Assert.Equal(map.ToList(), copy.ToList());
            var array = new KeyValuePair<string, long>[3];
            dictionary.CopyTo(array, 1);
            Assert.Equal(new[] { default, new KeyValuePair<string, long>("x", 2), new KeyValuePair<string, long>("y", 3) }, array);
            Assert.Throws<ArgumentException>(() => dictionary.CopyTo(array, 2));
            Assert.Throws<ArgumentNullException>(() => map[null] = 1);
            Assert.True(dictionary.Remove(new KeyValuePair<string, long>("y", 3)));
            Assert.Equal(new[] { "x" }, map.Keys);
        }
    }
}
