using System;
using System.Globalization;
using DyadPorts.Core.Diagnostics;

namespace DyadPorts.Fleet
{
    /// <summary>
    /// How to talk to the cluster, from the environment (given as a function, never read from the process here):
    /// DYAD_PORTS_ETCD_CACERT, _CERT and _KEY mean what etcdctl's --cacert, --cert and --key mean;
    /// DYAD_PORTS_ETCD_USER with DYAD_PORTS_ETCD_PASSWORD_FILE (never a password on a command line);
    /// DYAD_PORTS_ETCD_TIMEOUT, the bound in seconds on every call (default 10);
    /// DYAD_PORTS_ETCD_LEASE_TTL, the TTL in whole seconds of the leases behind app locks and start reservations (1-15, default 10).
    /// </summary>
    public sealed class EtcdOptions
    {
        public const string CaCertVariable = "DYAD_PORTS_ETCD_CACERT";
        public const string CertVariable = "DYAD_PORTS_ETCD_CERT";
        public const string KeyVariable = "DYAD_PORTS_ETCD_KEY";
        public const string UserVariable = "DYAD_PORTS_ETCD_USER";
        public const string PasswordFileVariable = "DYAD_PORTS_ETCD_PASSWORD_FILE";
        public const string TimeoutVariable = "DYAD_PORTS_ETCD_TIMEOUT";
        public const string LeaseTtlVariable = "DYAD_PORTS_ETCD_LEASE_TTL";

        /// <summary>The longest lease TTL, in seconds: what a crashed start may cost is bounded by about twice it.</summary>
        public const int MaxLeaseTtlSeconds = 15;

        public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);
        public static readonly TimeSpan DefaultLeaseTtl = TimeSpan.FromSeconds(10);

        /// <summary>The bound on each ledger call: a cluster that does not answer within it is StateStoreUnavailable.</summary>
        public TimeSpan Timeout { get; set; } = DefaultTimeout;
        public string CaCertFile { get; set; }
        public string CertFile { get; set; }
        public string KeyFile { get; set; }
        public string User { get; set; }
        public string PasswordFile { get; set; }

        /// <summary>
        /// The TTL of the leases behind app locks and start reservations (at most 15 s; DYAD_PORTS_ETCD_LEASE_TTL). A dead
        /// holder's lease can live about TTL + an election timeout, and up to about 2 × TTL after a leader change.
        /// </summary>
        public TimeSpan LeaseTtl { get; set; } = DefaultLeaseTtl;

        /// <summary>Who commits: user@machine, on every history event and as the owner of its counter key.</summary>
        public string Operator { get; set; }

        /// <summary>This machine's id (/etc/machine-id): the fleet host identity of its local engines and process previews.</summary>
        public string MachineId { get; set; }

        /// <summary>The history keeps at most this many events ...</summary>
        public int HistoryLimit { get; set; } = 10_000;

        /// <summary>... and none older than this.</summary>
        public TimeSpan HistoryMaxAge { get; set; } = TimeSpan.FromDays(30);

        public static EtcdOptions FromEnvironment(Func<string, string> environment, string operatorName, string machineId)
        {
            ArgumentNullException.ThrowIfNull(environment);
            var options = new EtcdOptions
            {
                CaCertFile = NullIfBlank(environment(CaCertVariable)),
                CertFile = NullIfBlank(environment(CertVariable)),
                KeyFile = NullIfBlank(environment(KeyVariable)),
                User = NullIfBlank(environment(UserVariable)),
                PasswordFile = NullIfBlank(environment(PasswordFileVariable)),
                Operator = operatorName,
                MachineId = machineId,
            };
            var timeout = NullIfBlank(environment(TimeoutVariable));
            if (timeout != null)
            {
                if (!double.TryParse(timeout, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds <= 0 || seconds > 3600)
                {
                    throw new DyadPortsException(ErrorIds.StateLocationInvalid, FailureCategory.InvalidArgument, timeout,
                        $"{TimeoutVariable} '{timeout}' is not a number of seconds between 0 and 3600.");
                }
                options.Timeout = TimeSpan.FromSeconds(seconds);
            }
            var ttl = NullIfBlank(environment(LeaseTtlVariable));
            if (ttl != null)
            {
                if (!int.TryParse(ttl, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds < 1 || seconds > MaxLeaseTtlSeconds)
                {
                    throw new DyadPortsException(ErrorIds.StateLocationInvalid, FailureCategory.InvalidArgument, ttl,
                        $"{LeaseTtlVariable} '{ttl}' is not a whole number of seconds between 1 and {MaxLeaseTtlSeconds}.");
                }
                options.LeaseTtl = TimeSpan.FromSeconds(seconds);
            }
            if ((options.CertFile == null) != (options.KeyFile == null))
            {
                throw new DyadPortsException(ErrorIds.StateLocationInvalid, FailureCategory.InvalidArgument, options.CertFile ?? options.KeyFile,
                    $"{CertVariable} and {KeyVariable} go together: a client certificate needs its key, and a key its certificate.");
            }
            if (options.User != null && options.PasswordFile == null)
            {
                throw new DyadPortsException(ErrorIds.StateLocationInvalid, FailureCategory.InvalidArgument, options.User,
                    $"{UserVariable} is set without {PasswordFileVariable}: the password is read from a file, never from the command line.");
            }
            return options;
        }

        private static string NullIfBlank(string value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }
}
