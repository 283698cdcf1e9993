using System;
using System.Globalization;
using System.Net.Http;
using System.Security.Authentication;
using DyadPorts.Core.Diagnostics;
using Grpc.Core;

namespace DyadPorts.Fleet
{
    /// <summary>
    /// What a failed etcd call means to a DyadPorts user. Unreachable, no leader, no quorum, out of time:
    /// <see cref="ErrorIds.StateStoreUnavailable"/>, naming the endpoints. TLS or authentication refused:
    /// <see cref="ErrorIds.StateStoreRefused"/>, naming the reason; so is a transaction over etcd's limits. Out of space (NOSPACE):
    /// <see cref="ErrorIds.StateStoreFull"/>, saying what to do.
    /// </summary>
    internal sealed class EtcdErrors
    {
        private readonly EtcdLocation _location;
        private readonly TlsFailures _tls;

        public EtcdErrors(EtcdLocation location, TlsFailures tls)
        {
            _location = location;
            _tls = tls;
        }

        /// <summary>Whether this failure is ours to map: gRPC's, the HTTP/2 transport's, or a deadline.</summary>
        public static bool Handles(Exception e) => e is RpcException || e is HttpRequestException || e is OperationCanceledException || e is AuthenticationException;

        /// <summary>Worth another try within the deadline: a member down, a leader being elected, quorum briefly gone.</summary>
        public bool IsTransient(Exception e)
        {
            if (!(e is RpcException rpc)) return false;
            if (Refusal(e) != null || Full(e)) return false;
            return rpc.StatusCode == StatusCode.Unavailable
                || (rpc.StatusCode == StatusCode.Unknown && Says(rpc, "leader changed"))
                || (rpc.StatusCode == StatusCode.DeadlineExceeded && Says(rpc, "etcdserver"));
        }

        /// <summary>
        /// The auth token expired or was dropped (a member restarted, or --auth-token-ttl passed): refused before anything
        /// was applied, so the call may be made again once the token is renewed.
        /// </summary>
        public static bool IsExpiredToken(Exception e) => e is RpcException rpc && Says(rpc, "invalid auth token");

        /// <summary>
        /// True when the call may have taken effect although it failed: the commit reached a member, then the answer was
        /// lost. A deadline shows as gRPC's DeadlineExceeded or, when the client's own timer wins the race, as a
        /// cancellation (the user's own cancellation never gets here: <see cref="EtcdConnection.Once{T}"/> lets it through).
        /// </summary>
        public static bool IsAmbiguous(Exception e) =>
            e is OperationCanceledException ||
            (e is RpcException rpc && (rpc.StatusCode == StatusCode.Unavailable || rpc.StatusCode == StatusCode.DeadlineExceeded || rpc.StatusCode == StatusCode.Unknown || rpc.StatusCode == StatusCode.Cancelled));

        public DyadPortsException Map(Exception e, TimeSpan timeout)
        {
            var refusal = Refusal(e);
            if (refusal != null)
            {
                return new DyadPortsException(ErrorIds.StateStoreRefused, FailureCategory.SecurityError, _location.Text,
                    $"The etcd cluster at {_location.EndpointList} refused DyadPorts: {refusal}. Nothing was changed.", e);
            }
            if (TooBig(e) is string limit)
            {
                return new DyadPortsException(ErrorIds.StateStoreRefused, FailureCategory.InvalidOperation, _location.Text,
                    $"The etcd cluster at {_location.EndpointList} refused a transaction this large ({limit}). A copy or recovery of many apps lands " +
                    "in one transaction, all or nothing: raise --max-txn-ops (128 by default) or --max-request-bytes on every member, or copy a state of fewer apps. Nothing was changed.", e);
            }
            if (Full(e))
            {
                return new DyadPortsException(ErrorIds.StateStoreFull, FailureCategory.WriteError, _location.Text,
                    $"The etcd cluster at {_location.EndpointList} is out of space (mvcc: database space exceeded, the NOSPACE alarm), so it accepts no writes. " +
                    "Compact and defragment it (etcdctl compact <revision>; etcdctl defrag; etcdctl alarm disarm), run it with --auto-compaction-retention, " +
                    "or raise its --quota-backend-bytes. Nothing was changed.", e);
            }
            var detail = Detail(e);
            return new DyadPortsException(ErrorIds.StateStoreUnavailable, FailureCategory.ConnectionError, _location.Text,
                $"The etcd cluster at {_location.EndpointList} did not answer within {timeout.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s " +
                $"(unreachable, or without a leader or quorum{(detail.Length > 0 ? ": " + detail : string.Empty)}). Nothing was half-written: an etcd transaction " +
                $"lands whole or not at all. {EtcdOptions.TimeoutVariable} sets the bound in seconds.", e);
        }

        private string Refusal(Exception e)
        {
            for (var x = e; x != null; x = Next(x))
            {
                if (x is AuthenticationException)
                {
                    var seen = _tls.Last;
                    if (seen != null) return "TLS: " + seen;
                    return "TLS: the handshake failed (" + x.Message + "); a client certificate may be missing or rejected (" + EtcdOptions.CertVariable + ", " + EtcdOptions.KeyVariable + ")";
                }
                if (x is RpcException rpc)
                {
                    if (Says(rpc, "authentication failed")) return $"wrong user or password ({EtcdOptions.UserVariable}, {EtcdOptions.PasswordFileVariable})";
                    if (Says(rpc, "user name is empty") || Says(rpc, "user name not found")) return $"the cluster requires a user: set {EtcdOptions.UserVariable} and {EtcdOptions.PasswordFileVariable}";
                    if (Says(rpc, "invalid auth token")) return "the auth token was refused";
                    if (Says(rpc, "permission denied") || rpc.StatusCode == StatusCode.PermissionDenied) return $"permission denied: the user needs read and write access to the prefix {_location.Prefix}";
                    if (rpc.StatusCode == StatusCode.Unauthenticated) return "authentication required: " + rpc.Status.Detail;
                    if (Says(rpc, "certificate") || Says(rpc, "SSL") || Says(rpc, "handshake"))
                    {
                        return "TLS: " + (_tls.Last ?? "the handshake failed (" + rpc.Status.Detail + "); a client certificate may be missing or rejected (" + EtcdOptions.CertVariable + ", " + EtcdOptions.KeyVariable + ")");
                    }
                }
            }
            return null;
        }

        /// <summary>etcd's own limits on one transaction (--max-txn-ops, --max-request-bytes): the reason, or null.</summary>
        private static string TooBig(Exception e) => Saying(e, "too many operations in txn request", "request is too large")?.Status.Detail;

        private static bool Full(Exception e) => Saying(e, "database space exceeded", "NOSPACE") != null;

        /// <summary>The first gRPC failure along <paramref name="e"/>'s chain whose detail says one of <paramref name="texts"/>; null for none.</summary>
        private static RpcException Saying(Exception e, params string[] texts)
        {
            for (var x = e; x != null; x = Next(x))
            {
                if (x is RpcException rpc && Array.Exists(texts, text => Says(rpc, text))) return rpc;
            }
            return null;
        }

        private static Exception Next(Exception e) => e is RpcException rpc && rpc.Status.DebugException != null ? rpc.Status.DebugException : e.InnerException;

        private static bool Says(RpcException rpc, string text) => (rpc.Status.Detail ?? string.Empty).Contains(text, StringComparison.OrdinalIgnoreCase);

        private static string Detail(Exception e) => e is RpcException rpc ? (rpc.Status.Detail ?? string.Empty).Trim() : (e is OperationCanceledException ? "out of time" : e.Message);
    }
}
