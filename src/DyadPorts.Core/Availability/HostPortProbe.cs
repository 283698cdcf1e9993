using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace DyadPorts.Core.Availability
{
    /// <summary>How host sockets are seen: whether a port is free, and who holds it when it is not.</summary>
    public interface IHostPortProbe
    {
        bool IsFree(int port);
        string DescribeHolder(int port);
    }

    /// <summary>
    /// The bind strategy (Linux's default): sees host sockets no engine knows about. A bind probe (about 20 µs a port)
    /// answers "free?"; only when a port is taken is the listener table read to say who holds it.
    /// Other strategies: <see cref="HostProbes"/>.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "Instance members on purpose: the seam for IHostPortProbe (docs design notes).")]
    public sealed class HostPortProbe : IHostPortProbe
    {
        public static readonly HostPortProbe Instance = new HostPortProbe();

        /// <summary>True when nothing listens on the port on any IPv4 or IPv6 address.</summary>
        public bool IsFree(int port) => CanListen(IPAddress.Any, port) && CanListen(IPAddress.IPv6Any, port);

        private static bool CanListen(IPAddress address, int port)
        {
            Socket socket;
            try
            {
                socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            }
            catch (SocketException) when (address.AddressFamily == AddressFamily.InterNetworkV6)
            {
                return true; // no IPv6 on this host: nothing can listen there
            }
            using (socket)
            {
                try
                {
                    if (address.AddressFamily == AddressFamily.InterNetworkV6) socket.DualMode = false;
                    // Lets a port whose old connections sit in TIME_WAIT count as free, as it is for a new listener;
                    // a socket that is listening still conflicts.
                    if (!RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
                        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                    socket.Bind(new IPEndPoint(address, port));
                    socket.Listen(1);
                    return true;
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressNotAvailable && address.AddressFamily == AddressFamily.InterNetworkV6)
                {
                    return true;
                }
                catch (SocketException)
                {
                    return false;
                }
            }
        }

        /// <summary>"host process python3 (pid 4242) listening on 127.0.0.1:32100": named from the listener table, read now.</summary>
        public string DescribeHolder(int port) => ListenerTable.Read().Describe(port);
    }

    /// <summary>Finds the process that owns a listening socket through /proc; null where that is not visible.</summary>
    internal static class LinuxSocketOwner
    {
        private static readonly string[] ProcNetTcp = { "/proc/net/tcp", "/proc/net/tcp6" };

        public static string Find(int port)
        {
            if (!File.Exists("/proc/net/tcp")) return null;
            try
            {
                var inodes = ProcNetTcp
                    .Where(File.Exists)
                    .SelectMany(File.ReadLines)
                    .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    .Where(f => f.Length > 9 && f[3] == "0A" && f[1].Contains(':') && Convert.ToInt32(f[1].Substring(f[1].LastIndexOf(':') + 1), 16) == port)
                    .Select(f => "socket:[" + f[9] + "]")
                    .ToList();
                if (inodes.Count == 0) return null;
                foreach (var procDir in Directory.EnumerateDirectories("/proc"))
                {
                    var pidText = Path.GetFileName(procDir);
                    if (!int.TryParse(pidText, out var pid)) continue;
                    string[] fds;
                    try { fds = Directory.GetFiles(Path.Combine(procDir, "fd")); }
                    catch (Exception) { continue; }
                    foreach (var fd in fds)
                    {
                        string target;
                        try { target = new FileInfo(fd).LinkTarget; }
                        catch (Exception) { continue; }
                        if (target != null && inodes.Contains(target))
                        {
                            var name = SafeRead(Path.Combine(procDir, "comm"))?.Trim();
                            return $"{name ?? "?"} (pid {pid})";
                        }
                    }
                }
            }
            catch (Exception)
            {
                // Attribution is a courtesy: the bind probe already decided the port is taken.
            }
            return null;
        }

        private static string SafeRead(string path)
        {
            try { return File.ReadAllText(path); } catch (Exception) { return null; }
        }
    }
}
