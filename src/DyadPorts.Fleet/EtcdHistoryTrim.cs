using System;
using System.Linq;
using System.Threading;
using DyadPorts.Core.Diagnostics;
using Etcdserverpb;

namespace DyadPorts.Fleet
{
    /// <summary>
    /// Keeps a state's history bounded (<see cref="EtcdLedger"/> runs it after about one commit in
    /// <see cref="EtcdLedger.TrimEvery"/> that recorded events): the events older than <see cref="EtcdOptions.HistoryMaxAge"/>
    /// go in one range delete (a history key starts with its UTC stamp, <see cref="EtcdKeys.HistoryEvent"/>), then the oldest
    /// beyond <see cref="EtcdOptions.HistoryLimit"/> in another. Nothing outside the history's prefix is touched.
    /// <para>The age counts back from <c>now</c>, the trimming process's clock: etcd has no clock to ask, so an operator whose
    /// clock runs d ahead trims the events older than the age limit less d, which the others still keep (a clock ahead by
    /// more than the limit: the whole history). The count limit needs no clock.</para>
    /// </summary>
    internal static class EtcdHistoryTrim
    {
        /// <summary>Trims once. A trim that fails (the cluster silent, out of time) says so verbosely and throws nothing: a later commit trims again.</summary>
        public static void Run(EtcdConnection cluster, EtcdKeys keys, DateTimeOffset now, IOperationLog log)
        {
            ArgumentNullException.ThrowIfNull(cluster);
            ArgumentNullException.ThrowIfNull(keys);
            ArgumentNullException.ThrowIfNull(log);
            try
            {
                var deadline = cluster.NewDeadline();
                var history = EtcdKeys.Bytes(keys.History);
                var end = EtcdKeys.RangeEnd(keys.History);
                var cutoff = keys.History + EtcdKeys.HistoryStamp(now - cluster.Options.HistoryMaxAge);
                cluster.Retrying((client, d, token) => client.Delete(new DeleteRangeRequest { Key = history, RangeEnd = EtcdKeys.Bytes(cutoff) }, null, d, token), deadline, CancellationToken.None);
                var count = cluster.Retrying((client, d, token) => client.Get(new RangeRequest { Key = history, RangeEnd = end, CountOnly = true }, null, d, token), deadline, CancellationToken.None).Count;
                var excess = count - cluster.Options.HistoryLimit;
                if (excess <= 0) return;
                var oldest = cluster.Retrying((client, d, token) => client.Get(new RangeRequest { Key = history, RangeEnd = end, KeysOnly = true, Limit = excess }, null, d, token), deadline, CancellationToken.None);
                var last = oldest.Kvs.LastOrDefault();
                if (last == null) return;
                cluster.Retrying((client, d, token) => client.Delete(new DeleteRangeRequest { Key = history, RangeEnd = EtcdKeys.Bytes(last.Key.ToStringUtf8() + "\0") }, null, d, token), deadline, CancellationToken.None);
            }
            catch (DyadPortsException e)
            {
                log.Verbose($"The etcd history was not trimmed this time: {e.Message}");
            }
        }
    }
}
