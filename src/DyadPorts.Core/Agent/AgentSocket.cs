using System;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Agent
{
    /// <summary>
    /// Where the agent listens and who may talk to it: a unix socket in a folder only its user can enter, and on each
    /// connection the other end's user (SO_PEERCRED) must be this process's effective user, both ways. Linux only.
    /// </summary>
    public static class AgentSocket
    {
        /// <summary>
        /// The agent's socket: unset for the per-user default (<see cref="DefaultPath"/>), an absolute path for another,
        /// off for none (every command lists, as without an agent).
        /// </summary>
        public const string Variable = "DYAD_PORTS_AGENT";

        /// <summary>The longest path a unix socket address holds (sun_path, 108 bytes with its terminating zero).</summary>
        public const int MostPathBytes = 107;

        private const int SolSocket = 1;
        private const int SoPeerCred = 17;
        private const int SoSndTimeo = 21; // SO_SNDTIMEO(_OLD): a struct timeval of two native longs on these architectures

        /// <summary>Linux on the architectures whose SO_PEERCRED is 17 (x64, Arm64, x86, Arm).</summary>
        public static bool Supported =>
            OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.OSArchitecture is
                System.Runtime.InteropServices.Architecture.X64 or System.Runtime.InteropServices.Architecture.Arm64 or
                System.Runtime.InteropServices.Architecture.X86 or System.Runtime.InteropServices.Architecture.Arm;

        /// <summary>
        /// $XDG_RUNTIME_DIR/dyadports/agent.sock (the user's own runtime folder, 0700, gone at logout); without
        /// XDG_RUNTIME_DIR (cron, a service without a login session), the same folder as /run/user/&lt;uid&gt; when that is
        /// this user's, so that a cron job finds the agent a login or user service started; else
        /// /tmp/dyadports-&lt;uid&gt;/agent.sock.
        /// </summary>
        public static string DefaultPath(Func<string, string> environment) => DefaultPath(environment, IsOwnFolder);

        /// <param name="isOwnFolder">Whether a folder exists and belongs to this user (<see cref="IsOwnFolder"/>).</param>
        internal static string DefaultPath(Func<string, string> environment, Func<string, bool> isOwnFolder)
        {
            ArgumentNullException.ThrowIfNull(environment);
            ArgumentNullException.ThrowIfNull(isOwnFolder);
            var runtime = environment("XDG_RUNTIME_DIR");
            var uid = UnixFiles.EffectiveUserId.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (string.IsNullOrWhiteSpace(runtime) || !Path.IsPathFullyQualified(runtime))
            {
                var userRuntime = "/run/user/" + uid;
                runtime = isOwnFolder(userRuntime) ? userRuntime : null;
            }
            var folder = runtime != null ? Path.Combine(runtime, "dyadports") : Path.Combine(Path.GetTempPath(), "dyadports-" + uid);
            return Path.Combine(folder, "agent.sock");
        }

        /// <summary>Whether a folder exists and this user owns it.</summary>
        private static bool IsOwnFolder(string path) =>
            UnixFiles.Supported && UnixFiles.StatDirectory(path, out _) is UnixFileInfo owned && owned.OwnerId == UnixFiles.EffectiveUserId;

        /// <summary>
        /// DYAD_PORTS_AGENT as a socket path, or null for off (and wherever the agent is not <see cref="Supported"/>).
        /// A relative path is AgentSocketInvalid: which agent a command asks must not depend on its current folder.
        /// </summary>
        public static string Resolve(Func<string, string> environment)
        {
            ArgumentNullException.ThrowIfNull(environment);
            var value = environment(Variable)?.Trim();
            if (string.Equals(value, "off", StringComparison.OrdinalIgnoreCase)) return null;
            if (!string.IsNullOrEmpty(value) && !Path.IsPathFullyQualified(value))
            {
                throw new DyadPortsException(ErrorIds.AgentSocketInvalid, FailureCategory.InvalidArgument, value,
                    $"{Variable} is '{value}'; it takes an absolute path to the agent's socket, or off (no agent). Unset, it is {DefaultPath(environment)}.");
            }
            if (!Supported) return null;
            if (string.IsNullOrEmpty(value))
            {
                // A default too long for a socket address: nothing can listen there, so there is no agent to ask.
                var path = DefaultPath(environment);
                return Fits(path) ? path : null;
            }
            if (!Fits(value)) throw TooLong(value, Variable);
            return value;
        }

        /// <summary>Whether a path fits a unix socket's address.</summary>
        public static bool Fits(string path) => System.Text.Encoding.UTF8.GetByteCount(path) <= MostPathBytes;

        /// <summary>Why there is no default socket: DYAD_PORTS_AGENT is off, or the per-user default is too long for one.</summary>
        public static DyadPortsException NoDefault(Func<string, string> environment)
        {
            ArgumentNullException.ThrowIfNull(environment);
            if (string.Equals(environment(Variable)?.Trim(), "off", StringComparison.OrdinalIgnoreCase))
            {
                return new DyadPortsException(ErrorIds.AgentSocketInvalid, FailureCategory.InvalidArgument, Variable,
                    $"{Variable} is off, so there is no default socket: name the agent's with -Path.");
            }
            return TooLong(DefaultPath(environment), "The default socket");
        }

        public static DyadPortsException TooLong(string path, string source) =>
            new DyadPortsException(ErrorIds.AgentSocketInvalid, FailureCategory.InvalidArgument, path,
                $"{source} '{path}' is {System.Text.Encoding.UTF8.GetByteCount(path)} bytes long; a unix socket's path holds at most {MostPathBytes}.");

        /// <summary>AgentUnsupported, for where the agent does not run (<see cref="Supported"/>).</summary>
        public static DyadPortsException Unsupported(object target) =>
            new DyadPortsException(ErrorIds.AgentUnsupported, FailureCategory.NotImplemented, target,
                "The DyadPorts agent runs on Linux only (it checks who connects with SO_PEERCRED).");

        /// <summary>The process at the other end of a connected unix socket, and its effective user (SO_PEERCRED).</summary>
        public static (int ProcessId, int UserId) PeerCredentials(Socket socket)
        {
            ArgumentNullException.ThrowIfNull(socket);
            Span<byte> credentials = stackalloc byte[12]; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
            var length = socket.GetRawSocketOption(SolSocket, SoPeerCred, credentials);
            if (length < 12) throw new SocketException((int)SocketError.ProtocolOption);
            return (System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(credentials),
                    System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(credentials.Slice(4)));
        }

        /// <summary>
        /// Bounds how long a blocking connect waits for room in the listener's queue. Linux makes a connect to a unix socket
        /// whose queue is full (an agent stopped with Ctrl+Z, paused, in a debugger) wait until the listener accepts, for
        /// as long as the socket's send timeout (SO_SNDTIMEO), then fail with EAGAIN; closing the socket does not end that
        /// wait. Set as a raw option, so that .NET leaves the socket blocking.
        /// </summary>
        public static void LimitConnectWait(Socket socket, TimeSpan limit)
        {
            ArgumentNullException.ThrowIfNull(socket);
            if (limit <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(limit), limit, "A wait of no time is no bound: SO_SNDTIMEO 0 waits for ever.");
            var seconds = (long)limit.TotalSeconds;
            var microseconds = (long)(limit - TimeSpan.FromSeconds(seconds)).TotalMicroseconds;
            Span<byte> timeval = stackalloc byte[2 * IntPtr.Size]; // struct timeval { long tv_sec; long tv_usec; }, little-endian here
            if (IntPtr.Size == 8)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(timeval, seconds);
                System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(timeval.Slice(8), microseconds);
            }
            else
            {
                System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(timeval, (int)Math.Min(seconds, int.MaxValue));
                System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(timeval.Slice(4), (int)microseconds);
            }
            socket.SetRawSocketOption(SolSocket, SoSndTimeo, timeval);
        }

        /// <summary>
        /// Whether process <paramref name="processId"/> sees the same network and mount namespaces as this one: an endpoint
        /// (a socket path, tcp://localhost) names the same engine only there. False when either cannot be read.
        /// </summary>
        public static bool SharesNamespaces(int processId)
        {
            var mine = OwnNamespaces.Value;
            var theirs = Namespaces(processId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return mine != null && theirs != null && mine.SequenceEqual(theirs);
        }

        private static readonly string[] NamespaceKinds = { "net", "mnt" };
        private static readonly Lazy<string[]> OwnNamespaces = new Lazy<string[]>(() => Namespaces("self"));

        /// <summary>The network and mount namespaces of /proc/<paramref name="process"/> ("net:[4026531840]", ...); null when unreadable.</summary>
        private static string[] Namespaces(string process)
        {
            try
            {
                var links = NamespaceKinds.Select(kind => new FileInfo($"/proc/{process}/ns/{kind}").LinkTarget).ToArray();
                return links.Any(link => link == null) ? null : links;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                return null;
            }
        }

        /// <summary>
        /// Makes the socket's folder (0700) when it is missing, and refuses one another user owns or others may write to
        /// (AgentSocketUnsafe): whoever can write there could put their own socket in the agent's place. In a place others
        /// may write to (the /tmp fallback of <see cref="DefaultPath(Func{string, string})"/>) the folder itself must be no
        /// link: another user could have put one there, to a folder of this user's, and point it elsewhere at any time.
        /// </summary>
        [System.Runtime.Versioning.SupportedOSPlatform("linux")]
        public static void PrepareFolder(string socketPath)
        {
            var folder = Path.GetDirectoryName(socketPath);
            if (string.IsNullOrEmpty(folder)) throw Unsafe(socketPath, "it has no folder");
            try
            {
                if (!Directory.Exists(folder)) Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw Unsafe(socketPath, $"its folder {folder} could not be made ({e.Message})", e);
            }
            var info = UnixFiles.StatDirectory(folder, out var errno);
            if (info is not UnixFileInfo stat) throw Unsafe(socketPath, $"its folder {folder} could not be checked ({UnixFiles.Describe(errno)})");
            if (stat.OwnerId != UnixFiles.EffectiveUserId) throw Unsafe(socketPath, $"its folder {folder} belongs to user {stat.OwnerId}, not to this one ({UnixFiles.EffectiveUserId})");
            if (stat.OthersCanWrite) throw Unsafe(socketPath, $"its folder {folder} is writable by others (mode {stat.Octal})");
            var parent = Path.GetDirectoryName(folder);
            if (parent != null && UnixFiles.StatDirectory(parent, out _) is UnixFileInfo above && above.OthersCanWrite
                && (UnixFiles.StatEntry(folder, out _) is not UnixFileInfo itself || !itself.IsDirectory))
            {
                throw Unsafe(socketPath, $"its folder {folder} is a link in {parent}, which others may write to");
            }
        }

        internal static DyadPortsException Unsafe(string socketPath, string why, Exception inner = null) =>
            new DyadPortsException(ErrorIds.AgentSocketUnsafe, FailureCategory.SecurityError, socketPath,
                $"The agent will not listen at {socketPath}: {why}.", inner);
    }
}
