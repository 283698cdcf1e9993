using System;
using System.Collections;
using System.Collections.Generic;

namespace DyadPorts.Core.State
{
    /// <summary>
    /// A map from names to values, kept in ordinal order of the names: the state's allocations, counters and activity
    /// (<see cref="StateDocument"/>). It enumerates as <see cref="SortedDictionary{TKey,TValue}"/> with
    /// <see cref="StringComparer.Ordinal"/> did (the state file's order), on two sorted arrays searched by halves.
    /// </summary>
    /// <remarks>
    /// Why not the framework's sorted collections: this is the module's own generic type, so its code for every value type
    /// the state uses is compiled ahead of time into DyadPorts.Core's ReadyToRun image. <c>SortedDictionary&lt;string, T&gt;</c>
    /// is code of System.Collections over a <c>KeyValuePair</c> of the module's types, which no image holds: a one-shot
    /// process compiled 71 methods of it at run time in its first request (issue 18,
    /// docs/bench/oneshot-jit-0.6.0-2026-12-02.txt). A state holds at most a few thousand names, so an insertion's move
    /// of the arrays' tails costs less than a tree's node. Not thread-safe, like the dictionary it replaces: a state
    /// document belongs to one transaction at a time.
    /// </remarks>
    public sealed class OrdinalDictionary<TValue> : IDictionary<string, TValue>, IReadOnlyDictionary<string, TValue>
    {
        private string[] _keys;
        private TValue[] _values;
        private int _count;
        private int _version;
        private View<string> _keyView;
        private View<TValue> _valueView;

        public OrdinalDictionary()
        {
            _keys = new string[4];
            _values = new TValue[4];
        }

        /// <summary>A map of <paramref name="pairs"/>; a name given twice keeps its last value.</summary>
        public OrdinalDictionary(IEnumerable<KeyValuePair<string, TValue>> pairs)
            : this()
        {
            ArgumentNullException.ThrowIfNull(pairs);
            foreach (var pair in pairs) this[pair.Key] = pair.Value;
        }

        public int Count => _count;

        bool ICollection<KeyValuePair<string, TValue>>.IsReadOnly => false;

        /// <summary>The names in ordinal order: a view of the map, as SortedDictionary's was (a change fails a walk of it).</summary>
        public IReadOnlyList<string> Keys => _keyView ??= new View<string>(this, (map, i) => map._keys[i]);

        /// <summary>The values in the order of their names: a view of the map, as SortedDictionary's was.</summary>
        public IReadOnlyList<TValue> Values => _valueView ??= new View<TValue>(this, (map, i) => map._values[i]);

        ICollection<string> IDictionary<string, TValue>.Keys => (View<string>)Keys;

        ICollection<TValue> IDictionary<string, TValue>.Values => (View<TValue>)Values;

        IEnumerable<string> IReadOnlyDictionary<string, TValue>.Keys => Keys;

        IEnumerable<TValue> IReadOnlyDictionary<string, TValue>.Values => Values;

        public TValue this[string key]
        {
            get
            {
                var i = Find(key);
                return i >= 0 ? _values[i] : throw new KeyNotFoundException($"The given key '{key}' was not present in the dictionary.");
            }
            set
            {
                var i = Find(key);
                if (i >= 0) _values[i] = value;
                else Insert(~i, key, value);
                _version++;
            }
        }

        public void Add(string key, TValue value)
        {
            var i = Find(key);
            if (i >= 0) throw new ArgumentException($"An item with the same key has already been added. Key: {key}", nameof(key));
            Insert(~i, key, value);
            _version++;
        }

        public bool ContainsKey(string key) => Find(key) >= 0;

        public bool TryGetValue(string key, out TValue value)
        {
            var i = Find(key);
            value = i >= 0 ? _values[i] : default;
            return i >= 0;
        }

        public bool Remove(string key)
        {
            var i = Find(key);
            if (i < 0) return false;
            RemoveAt(i);
            return true;
        }

        public void Clear()
        {
            Array.Clear(_keys, 0, _count);
            Array.Clear(_values, 0, _count);
            _count = 0;
            _version++;
        }

        public Enumerator GetEnumerator() => new Enumerator(this);

        IEnumerator<KeyValuePair<string, TValue>> IEnumerable<KeyValuePair<string, TValue>>.GetEnumerator() => new Boxed(this);

        IEnumerator IEnumerable.GetEnumerator() => new Boxed(this);

        void ICollection<KeyValuePair<string, TValue>>.Add(KeyValuePair<string, TValue> item) => Add(item.Key, item.Value);

        bool ICollection<KeyValuePair<string, TValue>>.Contains(KeyValuePair<string, TValue> item)
        {
            var i = Find(item.Key);
            return i >= 0 && EqualityComparer<TValue>.Default.Equals(_values[i], item.Value);
        }

        bool ICollection<KeyValuePair<string, TValue>>.Remove(KeyValuePair<string, TValue> item)
        {
            var i = Find(item.Key);
            if (i < 0 || !EqualityComparer<TValue>.Default.Equals(_values[i], item.Value)) return false;
            RemoveAt(i);
            return true;
        }

        void ICollection<KeyValuePair<string, TValue>>.CopyTo(KeyValuePair<string, TValue>[] array, int arrayIndex)
        {
            ArgumentNullException.ThrowIfNull(array);
            if (arrayIndex < 0 || array.Length - arrayIndex < _count) throw new ArgumentException("The array is too small.", nameof(array));
            for (var i = 0; i < _count; i++) array[arrayIndex + i] = new KeyValuePair<string, TValue>(_keys[i], _values[i]);
        }

        /// <summary>The index of <paramref name="key"/>, or the complement of where it would go.</summary>
        private int Find(string key)
        {
            ArgumentNullException.ThrowIfNull(key);
            int lo = 0, hi = _count - 1;
            while (lo <= hi)
            {
                var mid = lo + ((hi - lo) >> 1);
                var c = string.CompareOrdinal(_keys[mid], key);
                if (c == 0) return mid;
                if (c < 0) lo = mid + 1;
                else hi = mid - 1;
            }
            return ~lo;
        }

        private void Insert(int at, string key, TValue value)
        {
            if (_count == _keys.Length)
            {
                var keys = new string[_count * 2];
                var values = new TValue[_count * 2];
                Array.Copy(_keys, keys, _count);
                Array.Copy(_values, values, _count);
                _keys = keys;
                _values = values;
            }
            if (at < _count)
            {
                Array.Copy(_keys, at, _keys, at + 1, _count - at);
                Array.Copy(_values, at, _values, at + 1, _count - at);
            }
            _keys[at] = key;
            _values[at] = value;
            _count++;
        }

        private void RemoveAt(int at)
        {
            _count--;
            if (at < _count)
            {
                Array.Copy(_keys, at + 1, _keys, at, _count - at);
                Array.Copy(_values, at + 1, _values, at, _count - at);
            }
            _keys[_count] = null;
            _values[_count] = default;
            _version++;
        }

        /// <summary>What a walk of the map, its names or its values throws once the map changed (SortedDictionary's words).</summary>
        private static InvalidOperationException Modified() =>
            new InvalidOperationException("Collection was modified; enumeration operation may not execute.");

        /// <summary>The names or the values of a map, read through it: read-only, and a walk fails when the map changes.</summary>
        private sealed class View<T> : IReadOnlyList<T>, ICollection<T>
        {
            private readonly OrdinalDictionary<TValue> _map;
            private readonly Func<OrdinalDictionary<TValue>, int, T> _at;

            public View(OrdinalDictionary<TValue> map, Func<OrdinalDictionary<TValue>, int, T> at)
            {
                _map = map;
                _at = at;
            }

            public int Count => _map._count;

            public bool IsReadOnly => true;

            public T this[int index] => (uint)index < (uint)_map._count ? _at(_map, index) : throw new ArgumentOutOfRangeException(nameof(index));

            public IEnumerator<T> GetEnumerator()
            {
                var version = _map._version;
                for (var i = 0; ; i++)
                {
                    if (version != _map._version) throw Modified();
                    if (i >= _map._count) yield break;
                    yield return _at(_map, i);
                }
            }

            IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

            public bool Contains(T item)
            {
                for (var i = 0; i < _map._count; i++)
                {
                    if (EqualityComparer<T>.Default.Equals(_at(_map, i), item)) return true;
                }
                return false;
            }

            public void CopyTo(T[] array, int arrayIndex)
            {
                ArgumentNullException.ThrowIfNull(array);
                if (arrayIndex < 0 || array.Length - arrayIndex < _map._count) throw new ArgumentException("The array is too small.", nameof(array));
                for (var i = 0; i < _map._count; i++) array[arrayIndex + i] = _at(_map, i);
            }

            public void Add(T item) => throw ReadOnly();

            public bool Remove(T item) => throw ReadOnly();

            public void Clear() => throw ReadOnly();

            private static NotSupportedException ReadOnly() => new NotSupportedException("The names and values of a map are read through it: change the map.");
        }

        /// <summary>Walks the map in ordinal order of its names; a change of the map meanwhile fails the walk, as it did.</summary>
        public struct Enumerator
        {
            private readonly OrdinalDictionary<TValue> _map;
            private readonly int _version;
            private int _index;

            internal Enumerator(OrdinalDictionary<TValue> map)
            {
                _map = map;
                _version = map._version;
                _index = -1;
            }

            public KeyValuePair<string, TValue> Current => new KeyValuePair<string, TValue>(_map._keys[_index], _map._values[_index]);

            public bool MoveNext()
            {
                if (_version != _map._version) throw Modified();
                return ++_index < _map._count;
            }
        }

        private sealed class Boxed : IEnumerator<KeyValuePair<string, TValue>>
        {
            private Enumerator _inner;

            public Boxed(OrdinalDictionary<TValue> map) => _inner = new Enumerator(map);

            public KeyValuePair<string, TValue> Current => _inner.Current;

            object IEnumerator.Current => Current;

            public bool MoveNext() => _inner.MoveNext();

            public void Reset() => throw new NotSupportedException();

            public void Dispose()
            {
            }
        }
    }
}
