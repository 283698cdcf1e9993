using System;
using System.Collections.Concurrent;
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
    /// connection; a connection that could not be made is not kept.
    /// </summary>
    public sealed class FleetLedgers : IFleetLedgers, IDisposable
    {
        private readonly ConcurrentDictionary<string, Lazy<EtcdConnection>> _connections = new ConcurrentDictionary<string, Lazy<EtcdConnection>>(StringComparer.Ordinal);
        private readonly Lazy<string> _operator = new Lazy<string>(FleetIdentity.Operator);
        private readonly Lazy<string> _machineId = new Lazy<string>(FleetIdentity.MachineId);

        public IAllocationLedger Open(StateLocation location, DyadSettings settings, IStateRecovery recovery)
        {
            ArgumentNullException.ThrowIfNull(location);
            ArgumentNullException.ThrowIfNull(settings);
            var parsed = EtcdLocation.Parse(location.Text);
            var options = EtcdOptions.FromEnvironment(settings.Environment, _operator.Value, _machineId.Value);
            return new EtcdLedger(Connection(parsed, options), recovery, writesNothing: settings.WritesNothing);
        }

        private EtcdConnection Connection(EtcdLocation location, EtcdOptions options)
        {
            var key = Key(location, options);
            var lazy = _connections.GetOrAdd(key, _ => new Lazy<EtcdConnection>(() => new EtcdConnection(location, options), LazyThreadSafetyMode.ExecutionAndPublication));
            try
            {
                return lazy.Value;
            }
            catch (Exception)
            {
                _connections.TryRemove(new System.Collections.Generic.KeyValuePair<string, Lazy<EtcdConnection>>(key, lazy));
                throw;
            }
        }

        private static string Key(EtcdLocation location, EtcdOptions options) => string.Join("|",
            location.ConnectionString, location.Prefix, options.Timeout.Ticks.ToString(CultureInfo.InvariantCulture), options.LeaseTtl.Ticks.ToString(CultureInfo.InvariantCulture),
            Stamp(options.CaCertFile), Stamp(options.CertFile), Stamp(options.KeyFile), options.User ?? string.Empty, Stamp(options.PasswordFile));

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
