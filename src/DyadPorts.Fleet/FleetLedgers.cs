using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Threading;
using DyadPorts.Core.Ledger;
using DyadPorts.Core.Session;
using DyadPorts.Core.State;

namespace DyadPorts.Fleet
{
    /// <summary>
    /// The session's fleet ledgers (<see cref="IFleetLedgers"/>): one <see cref="EtcdConnection"/> per location and
    /// connection settings (TLS files, user, password file, bound, lease TTL), kept for the life of the session like the engine
    /// clients, and a cheap <see cref="EtcdLedger"/> per command over it. A changed TLS or password file makes a new
    /// connection, and the one it replaces ends once the last command using it is done (<see cref="EtcdConnection.Supersede"/>),
    /// so a long-lived session whose certificates are renewed every hour keeps one connection, not one per renewal; a
    /// connection that could not be made is not kept.
    /// </summary>
    public sealed class FleetLedgers : IFleetLedgers, IDisposable
    {
        private readonly ConcurrentDictionary<string, Lazy<EtcdConnection>> _connections = new ConcurrentDictionary<string, Lazy<EtcdConnection>>(StringComparer.Ordinal);
        // Per connection without its files' stamps: the key of the newest files seen.
        private readonly Dictionary<string, string> _newest = new Dictionary<string, string>(StringComparer.Ordinal);
        private readonly Lazy<string> _operator = new Lazy<string>(FleetIdentity.Operator);
        private readonly Lazy<string> _machineId = new Lazy<string>(FleetIdentity.MachineId);

        public IAllocationLedger Open(StateLocation location, DyadSettings settings, IStateRecovery recovery)
        {
            ArgumentNullException.ThrowIfNull(location);
            ArgumentNullException.ThrowIfNull(settings);
            var parsed = EtcdLocation.Parse(location.Text);
            var options = EtcdOptions.FromEnvironment(settings.Environment, _operator.Value, _machineId.Value);
            var (connection, use) = Connection(parsed, options);
            try
            {
                return new EtcdLedger(connection, recovery, writesNothing: settings.WritesNothing, use: use);
            }
            catch
            {
                use.Dispose();
                throw;
            }
        }

        /// <summary>
        /// The session's connection for these settings and files as they are now, with one use of it counted for the
        /// command's ledger. A connection replaced between the lookup and the count (its files changed again) is looked
        /// up again: the replaced one is no longer in the table, so the next lookup finds or makes the newer one.
        /// </summary>
        private (EtcdConnection Connection, IDisposable Use) Connection(EtcdLocation location, EtcdOptions options)
        {
            while (true)
            {
                var identity = Identity(location, options);
                var key = identity + "|" + Stamps(options);
                ReplaceOlder(identity, key);
                var lazy = _connections.GetOrAdd(key, _ => new Lazy<EtcdConnection>(() => new EtcdConnection(location, options), LazyThreadSafetyMode.ExecutionAndPublication));
                EtcdConnection connection;
                try
                {
                    connection = lazy.Value;
                }
                catch (Exception)
                {
                    _connections.TryRemove(new KeyValuePair<string, Lazy<EtcdConnection>>(key, lazy));
                    throw;
                }
                var use = connection.Use();
                if (use == null) continue;
                if (_connections.TryGetValue(key, out var current) && ReferenceEquals(current, lazy)) return (connection, use);
                // Replaced while it was being made (ReplaceOlder could not end what did not exist yet): end it here.
                use.Dispose();
                connection.Supersede();
            }
        }

        /// <summary>
        /// Files newer than the ones an existing connection was made with: that connection leaves the table and ends once
        /// its last command is done. (Two commands that read the files on either side of a renewal may replace each
        /// other's connection once; each still finishes on the one it holds.)
        /// </summary>
        private void ReplaceOlder(string identity, string key)
        {
            string older;
            lock (_newest)
            {
                if (!_newest.TryGetValue(identity, out older) || older == key) older = null;
                _newest[identity] = key;
            }
            if (older == null || !_connections.TryRemove(older, out var replaced)) return;
            if (replaced.IsValueCreated) replaced.Value.Supersede(); // else its maker finds it gone from the table, and ends it

        }

        /// <summary>What makes a connection, but its files' stamps.</summary>
        private static string Identity(EtcdLocation location, EtcdOptions options) => string.Join("|",
            location.ConnectionString, location.Prefix, options.Timeout.Ticks.ToString(CultureInfo.InvariantCulture), options.LeaseTtl.Ticks.ToString(CultureInfo.InvariantCulture),
            options.CaCertFile ?? string.Empty, options.CertFile ?? string.Empty, options.KeyFile ?? string.Empty, options.User ?? string.Empty, options.PasswordFile ?? string.Empty);

        private static string Stamps(EtcdOptions options) => string.Join("|", Stamp(options.CaCertFile), Stamp(options.CertFile), Stamp(options.KeyFile), Stamp(options.PasswordFile));

        /// <summary>A file as part of a key: its path and when it last changed (a renewed certificate or a new password makes a new connection).</summary>
        private static string Stamp(string path)
        {
            if (path == null) return string.Empty;
            try
            {
                return path + "@" + File.GetLastWriteTimeUtc(path).Ticks.ToString(CultureInfo.InvariantCulture);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is ArgumentException || e is NotSupportedException)
            {
                return path;
            }
        }

        public void Dispose()
        {
            foreach (var entry in _connections.Values)
            {
                if (entry.IsValueCreated) entry.Value.Dispose();
            }
            _connections.Clear();
        }
    }
}
