using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using DyadPorts.Core.Diagnostics;

namespace DyadPorts.Core.Availability
{
    /// <summary>How host sockets are probed. docs/HOST-PROBES.md says which one runs where, and why.</summary>
    public enum HostProbeStrategy
    {
        /// <summary>Wildcard binds with SO_REUSEADDR (Linux default): a TIME_WAIT port counts as free.</summary>
        Bind,
        /// <summary>No SO_REUSEADDR, exclusive address use on Windows, four addresses (macOS and Windows default).</summary>
        Strict,
        /// <summary>The OS listener table, read once per allocation, then a set lookup per port.</summary>
        Table,
        /// <summary>A remote engine's host: this machine's sockets say nothing about it.</summary>
        None,
    }

    /// <summary>Chooses and builds the host probe for one allocation: by OS, by DYAD_PORTS_HOST_PROBE, and by the engine's host.</summary>
    public static class HostProbes
    {
        public const string Variable = "DYAD_PORTS_HOST_PROBE";

        /// <summary>The OS's default: Linux bind, macOS/BSD and Windows strict.</summary>
        public static HostProbeStrategy DefaultFor(OSPlatform os) => os == OSPlatform.Linux ? HostProbeStrategy.Bind : HostProbeStrategy.Strict;

        public static OSPlatform CurrentOs =>
            RuntimeInformation.IsOSPlatform(OSPlatform.Linux) ? OSPlatform.Linux
            : RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? OSPlatform.Windows
            : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? OSPlatform.OSX
            : OSPlatform.FreeBSD;

        /// <summary>DYAD_PORTS_HOST_PROBE=bind|strict|table, else the OS's default. Any other value is InvalidHostProbe.</summary>
        public static HostProbeStrategy Choose(Func<string, string> environment, OSPlatform os)
        {
            var text = environment(Variable);
            if (string.IsNullOrWhiteSpace(text)) return DefaultFor(os);
            switch (text.Trim().ToLowerInvariant())
            {
                case "bind": return HostProbeStrategy.Bind;
                case "strict": return HostProbeStrategy.Strict;
                case "table": return HostProbeStrategy.Table;
                default:
                    throw new DyadPortsException(ErrorIds.InvalidHostProbe, FailureCategory.InvalidArgument, text,
                        $"{Variable}='{text}' is not a host probe; use bind, strict or table, or leave it unset for this OS's default ({DefaultFor(os).ToString().ToLowerInvariant()}).");
            }
        }

        /// <summary>A new probe of that strategy. A table probe reads the listener table on its first question, once.</summary>
        public static IHostPortProbe Create(HostProbeStrategy strategy)
        {
            switch (strategy)
            {
                case HostProbeStrategy.Bind: return HostPortProbe.Instance;
                case HostProbeStrategy.Strict: return StrictHostPortProbe.Instance;
                case HostProbeStrategy.Table: return new TableHostPortProbe();
                default: return RemoteHostPortProbe.Instance;
            }
        }

        /// <summary>
        /// A factory of probes, one per allocation, for an engine on <paramref name="localHost"/> or not. The environment is
        /// checked now, so a bad DYAD_PORTS_HOST_PROBE fails the command before anything is read or written.
        /// On Windows the default strict probe is followed by the listener table as a second check.
        /// </summary>
        public static Func<IHostPortProbe> Factory(bool localHost, Func<string, string> environment, OSPlatform os)
        {
            var strategy = Choose(environment, os);
            if (!localHost) return () => RemoteHostPortProbe.Instance;
            var overridden = !string.IsNullOrWhiteSpace(environment(Variable));
            if (!overridden && os == OSPlatform.Windows) return () => new AllOfHostPortProbe(StrictHostPortProbe.Instance, new TableHostPortProbe());
            return () => Create(strategy);
        }
    }

    /// <summary>
    /// Binds without SO_REUSEADDR (and with exclusive address use on Windows) on 0.0.0.0, ::, 127.0.0.1 and ::1.
    /// On BSD/macOS a wildcard bind with SO_REUSEADDR succeeds beside a loopback-only listener, and on Windows
    /// beside any specific-address listener; this probe does neither. A port in TIME_WAIT may count as held: safe.
    /// </summary>
    public sealed class StrictHostPortProbe : IHostPortProbe
    {
        public static readonly StrictHostPortProbe Instance = new StrictHostPortProbe();
        private static readonly IPAddress[] Addresses = { IPAddress.Any, IPAddress.IPv6Any, IPAddress.Loopback, IPAddress.IPv6Loopback };

        public bool IsFree(int port) => Addresses.All(a => CanListen(a, port));

        private static bool CanListen(IPAddress address, int port)
        {
            Socket socket;
            try
            {
                socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            }
            catch (SocketException) when (address.AddressFamily == AddressFamily.InterNetworkV6)
            {
                return true; // no IPv6 on this host
            }
            using (socket)
            {
                try
                {
                    if (address.AddressFamily == AddressFamily.InterNetworkV6) socket.DualMode = false;
                    if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) socket.ExclusiveAddressUse = true;
                    socket.Bind(new IPEndPoint(address, port));
                    socket.Listen(1);
                    return true;
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressNotAvailable && address.AddressFamily == AddressFamily.InterNetworkV6)
                {
                    return true; // IPv6 present but ::1 / :: not configured
                }
                catch (SocketException)
                {
                    return false;
                }
            }
        }

        public string DescribeHolder(int port) => ListenerTable.Read().Describe(port);
    }

    /// <summary>
    /// The OS listener table (GetActiveTcpListeners), read once on the first question, then a set lookup per port.
    /// Create one per allocation. Not an authority on macOS, where the table may list only the caller's own sockets.
    /// </summary>
    public sealed class TableHostPortProbe : IHostPortProbe
    {
        private readonly Lazy<ListenerTable> _table;

        public TableHostPortProbe(Func<ListenerTable> read = null) => _table = new Lazy<ListenerTable>(read ?? ListenerTable.Read);

        /// <summary>How many times the table was read: 0 or 1.</summary>
        public int Reads => _table.IsValueCreated ? 1 : 0;

        public bool IsFree(int port) => !_table.Value.Holds(port);

        public string DescribeHolder(int port) => _table.Value.Describe(port);
    }

    /// <summary>An engine on another host: this machine's sockets say nothing about its ports. The engine arbitrates at start.</summary>
    public sealed class RemoteHostPortProbe : IHostPortProbe
    {
        public static readonly RemoteHostPortProbe Instance = new RemoteHostPortProbe();

        public bool IsFree(int port) => true;

        public string DescribeHolder(int port) => $"a process on the engine's host, port {port}";
    }

    /// <summary>Free only when every probe says free (Windows: strict, then the listener table as a second check).</summary>
    public sealed class AllOfHostPortProbe : IHostPortProbe
    {
        private readonly IHostPortProbe[] _probes;

        public AllOfHostPortProbe(params IHostPortProbe[] probes) => _probes = probes;

        public bool IsFree(int port) => _probes.All(p => p.IsFree(port));

        public string DescribeHolder(int port) => _probes.OfType<TableHostPortProbe>().FirstOrDefault()?.DescribeHolder(port) ?? _probes[0].DescribeHolder(port);
    }

    /// <summary>The listening TCP endpoints at one moment: the source of every host holder's text ("HeldBy").</summary>
    public sealed class ListenerTable
    {
        private readonly Dictionary<int, List<IPEndPoint>> _byPort;

        public ListenerTable(IEnumerable<IPEndPoint> listeners)
        {
            _byPort = listeners.GroupBy(e => e.Port).ToDictionary(g => g.Key, g => g.ToList());
        }

        public static ListenerTable Read()
        {
            try
            {
                return new ListenerTable(IPGlobalProperties.GetIPGlobalProperties().GetActiveTcpListeners());
            }
            catch (NetworkInformationException)
            {
                return new ListenerTable(Array.Empty<IPEndPoint>());
            }
        }

        public bool Holds(int port) => _byPort.ContainsKey(port);

        /// <summary>"host process python3 (pid 4242) listening on 127.0.0.1:32100", or a plainer text when the owner is hidden.</summary>
        public string Describe(int port)
        {
            var where = _byPort.TryGetValue(port, out var listeners) ? string.Join(", ", listeners.Select(Format).Distinct()) : $"port {port}";
            var owner = LinuxSocketOwner.Find(port);
            return owner == null ? $"host process listening on {where}" : $"host process {owner} listening on {where}";
        }

        private static string Format(IPEndPoint e) =>
            e.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{e.Address}]:{e.Port}" : $"{e.Address}:{e.Port}";
    }
}
