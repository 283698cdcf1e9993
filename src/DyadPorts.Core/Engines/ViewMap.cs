using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;

namespace DyadPorts.Core.Engines
{
    /// <summary>
    /// What an <see cref="EngineView"/> holds of its engine's containers, and from which look at the engine each came.
    /// Every look (a list, an inspect, an event applied in place) takes the next number as it starts; per container the
    /// map keeps the number of what it holds, and a result is taken only if its look started after that: inspects answer
    /// out of order, and a later start sees the engine at least as new.
    /// Not thread-safe: the view calls every member under its own lock, and never across an engine call.
    /// </summary>
    internal sealed class ViewMap
    {
        /// <summary>How many more entries of containers no longer in the map a view keeps, by default, before it lets go of those it can.</summary>
        public const int RemovalsKept = 1024;

        private readonly Dictionary<string, ContainerSummary> _map = new Dictionary<string, ContainerSummary>(StringComparer.Ordinal);
        private long _order;
        private long _listedAt; // the number of the last list: anything that started before it is older than the map
        private readonly Dictionary<string, long> _applied = new Dictionary<string, long>(StringComparer.Ordinal);
        // The numbers of the looks under way (lists, inspects). Of a container no longer in the map, _applied is kept only
        // to refuse what a look that started before its removal says: once every look under way started after it, it is
        // let go (Prune), so a long-lived view of a busy host does not grow with every container ever removed.
        private readonly SortedSet<long> _underWay = new SortedSet<long>();
        private int _keptAfterPrune;
        private readonly int _removalsKept;
        // Containers an event sent the view to inspect: when the oldest inspect still due for each began (Stopwatch ticks),
        // and the number of the newest (it is no longer due once a result that started as late is in).
        // Binds: one of the events due was a start, which may give a container host ports it did not hold (-P, -p 80).
        private readonly Dictionary<string, (long Since, long Newest, bool Binds)> _looks = new Dictionary<string, (long Since, long Newest, bool Binds)>(StringComparer.Ordinal);

        /// <param name="removalsKept">How many more numbers of removed containers to keep before letting go of those it can.</param>
        public ViewMap(int removalsKept)
        {
            if (removalsKept < 0) throw new ArgumentOutOfRangeException(nameof(removalsKept), removalsKept, "A view keeps no fewer than none.");
            _removalsKept = removalsKept;
        }

        /// <summary>How many looks (lists, inspects) are under way.</summary>
        public int UnderWay => _underWay.Count;

        /// <summary>How many numbers the map keeps (of containers in it, and of removed ones a look may still need).</summary>
        public int Remembered => _applied.Count;

        /// <summary>The next look's number, counted as under way until its result is taken or it failed (<see cref="Ended"/>).</summary>
        public long Begin()
        {
            var order = ++_order;
            _underWay.Add(order);
            return order;
        }

        /// <summary>The look numbered <paramref name="order"/> is no longer under way (its result was taken, or it failed).</summary>
        public void Ended(long order) => _underWay.Remove(order);

        /// <summary>
        /// Whether a container the map does not have yet (a create), or one that started (<see cref="EngineEventApplier.MayBind"/>),
        /// has waited longer than <paramref name="bound"/> for its inspect.
        /// </summary>
        public bool LookOverdue(TimeSpan bound) =>
            _looks.Any(l => (l.Value.Binds || !_map.ContainsKey(l.Key)) && Stopwatch.GetElapsedTime(l.Value.Since) > bound);

        /// <summary>
        /// The list numbered <paramref name="listedAt"/> replaces the map. Removals made while it was under way
        /// (<see cref="Removed"/>, numbered later) are newer than the list, and stay removed.
        /// </summary>
        public void Listed(long listedAt, IEnumerable<ContainerSummary> containers)
        {
            _underWay.Remove(listedAt);
            var removedSince = _applied.Where(a => a.Value > listedAt).ToList();
            _map.Clear();
            _looks.Clear();
            _applied.Clear();
            _keptAfterPrune = 0;
            _listedAt = listedAt;
            foreach (var c in containers)
            {
                _map[c.Id] = c;
                _applied[c.Id] = listedAt;
            }
            foreach (var (id, order) in removedSince)
            {
                _map.Remove(id);
                _applied[id] = order;
            }
        }

        /// <summary>
        /// The process removed a container itself: numbered now (so a look under way, which started before, is refused)
        /// and no longer due for a look; out of the map when <paramref name="live"/>.
        /// </summary>
        /// <returns>True when the map changed.</returns>
        public bool Removed(string id, bool live)
        {
            Applied(id, ++_order);
            _looks.Remove(id);
            return live && _map.Remove(id);
        }

        /// <summary>
        /// Applies an event at once when it needs no look (a removal, a rename or pause in place) and no look of its container
        /// is under way (a removal even then: it is final): a pending look's result would be older than this change, or this
        /// change would discard it, so a pending look makes any other event of the container look again.
        /// </summary>
        /// <param name="changed">Whether the map changed.</param>
        /// <returns>False when the event needs a look (<see cref="BeginLook"/>).</returns>
        public bool TryApplyInPlace(ContainerEvent e, out bool changed)
        {
            changed = false;
            var removal = EngineEventApplier.IsRemoval(e.Action);
            if (EngineEventApplier.NeedsLook(_map, e) || (!removal && _looks.ContainsKey(e.Id))) return false;
            changed = EngineEventApplier.Apply(_map, e, _ => null);
            if (changed || removal)
            {
                Applied(e.Id, ++_order); // a look still under way started before this
                _looks.Remove(e.Id);
            }
            return true;
        }

        /// <summary>
        /// Numbers a look of the event's container, which is due since <paramref name="dueSince"/> (a Stopwatch timestamp:
        /// when the event arrived, which may be long before a list that held it up ended; now when null), or since its
        /// oldest look still due.
        /// </summary>
        public long BeginLook(ContainerEvent e, long? dueSince = null)
        {
            var order = Begin();
            var binds = EngineEventApplier.MayBind(e.Action);
            var since = dueSince ?? Stopwatch.GetTimestamp();
            _looks[e.Id] = _looks.TryGetValue(e.Id, out var due) ? (Math.Min(due.Since, since), order, due.Binds || binds) : (since, order, binds);
            return order;
        }

        /// <summary>
        /// What the look numbered <paramref name="order"/> said of a container (called once it has <see cref="Ended"/>): kept
        /// unless what the map has of it started later; the wait for its looks that started no later ends.
        /// </summary>
        /// <returns>True when the map changed.</returns>
        public bool Take(string id, long order, ContainerSummary now)
        {
            if (_looks.TryGetValue(id, out var due) && due.Newest <= order) _looks.Remove(id);
            if (order < _listedAt) return false; // it began before the list the map holds
            if (_applied.TryGetValue(id, out var held) && held > order) return false; // a newer start is in
            Applied(id, order);
            return EngineEventApplier.Described(_map, id, now);
        }

        /// <summary>A snapshot of the map for readers; it never changes once made.</summary>
        public EngineSnapshot ToSnapshot() => new EngineSnapshot(_map.Values.ToList());

        /// <summary>
        /// What the map holds of a container (or its removal) started at <paramref name="order"/>. When the entries of
        /// containers no longer in the map grow by the map's removals kept past what the last prune kept, those no look
        /// under way could still need are let go (<see cref="Prune"/>).
        /// </summary>
        private void Applied(string id, long order)
        {
            _applied[id] = order;
            if (_applied.Count - _map.Count <= _keptAfterPrune + _removalsKept) return;
            Prune(_applied, _map.ContainsKey, _underWay.Count == 0 ? long.MaxValue : _underWay.Min);
            _keptAfterPrune = Math.Max(0, _applied.Count - _map.Count); // a look stuck under way does not make every later entry scan again
        }

        /// <summary>
        /// Lets go of the numbers of containers not in the map (<paramref name="inMap"/>) that every look under way (the
        /// oldest numbered <paramref name="oldestUnderWay"/>; <see cref="long.MaxValue"/> for none) started after: none
        /// of those looks could be refused by them, and a look that starts later is newer anyway.
        /// </summary>
        internal static void Prune(Dictionary<string, long> applied, Func<string, bool> inMap, long oldestUnderWay)
        {
            foreach (var gone in applied.Where(a => a.Value < oldestUnderWay && !inMap(a.Key)).Select(a => a.Key).ToList()) applied.Remove(gone);
        }
    }
}
