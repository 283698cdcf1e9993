using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text.Json;
using System.Threading;

namespace DyadPorts.Tests.Support
{
    /// <summary>
    /// A private etcd cluster for fault tests (leader killed, quorum lost, restarts), apart from the shared one that
    /// tools/setup-etcd.sh keeps. Member i (0-based) serves clients on 127.0.0.1:(firstPort + 2i) and peers on
    /// firstPort + 2i + 1, so a cluster of n members takes the 2n ports from firstPort; pick them in 20600-20799,
    /// distinct per test. Data lives in a fresh temp folder (0700), each member's output in its log file there; the
    /// members run from '/' with every inherited ETCD_* variable removed. Only the processes this object started
    /// are ever killed (SIGKILL, by their pid), and Dispose kills every one still running, then deletes the folder.
    /// Timing flags are etcd's defaults (heartbeat 100 ms, election timeout 1000 ms): on two shared cores a shorter
    /// election timeout risks spurious elections, and a leader killed at the defaults is replaced in 1-2 s. (The
    /// least lease TTL etcd grants follows from it: 1.5 x election timeout, 2 s here.)
    /// </summary>
    [UnsupportedOSPlatform("windows")]
    public sealed class EtcdCluster : IDisposable
    {
        public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
        private readonly Member[] _members;
        private readonly List<Process> _started = new List<Process>();
        private readonly string _token;
        private readonly IReadOnlyList<string> _extraFlags;

        private EtcdCluster(int members, int firstPort, IEnumerable<string> extraFlags)
        {
            if (members < 1) throw new ArgumentOutOfRangeException(nameof(members), members, "a cluster has at least one member");
            if (firstPort < 1024 || firstPort + 2 * members - 1 > 32767) throw new ArgumentOutOfRangeException(nameof(firstPort), firstPort, "the ports must lie in 1024-32767");
            var id = Guid.NewGuid().ToString("N")[..8];
            _token = "dpt-" + id;
            _extraFlags = extraFlags.ToList();
            Dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "dpetcd-" + id), UserOnly).FullName;
            _members = Enumerable.Range(0, members).Select(i => new Member(
                "m" + i.ToString(CultureInfo.InvariantCulture), firstPort + 2 * i, firstPort + 2 * i + 1, Dir)).ToArray();
            Endpoints = _members.Select(m => m.Endpoint).ToList();
        }

        private const UnixFileMode UserOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

        /// <summary>The temp folder holding every member's data dir (m0, m1...) and log (m0.log...).</summary>
        public string Dir { get; }

        /// <summary>Every member's client endpoint, "127.0.0.1:P", in member order.</summary>
        public IReadOnlyList<string> Endpoints { get; }

        /// <summary>The client endpoints of the members running now.</summary>
        public IReadOnlyList<string> RunningEndpoints => _members.Where(m => m.Running).Select(m => m.Endpoint).ToList();

        public int Count => _members.Length;

        /// <summary>Starts a new cluster and returns once every member is healthy (within <see cref="StartTimeout"/>).</summary>
        public static EtcdCluster Start(int members, int firstPort) => Start(members, firstPort, Array.Empty<string>());

        /// <param name="extraFlags">More etcd flags for every member, e.g. "--experimental-enable-lease-checkpoint".</param>
        public static EtcdCluster Start(int members, int firstPort, IEnumerable<string> extraFlags)
        {
            ArgumentNullException.ThrowIfNull(extraFlags);
            var cluster = new EtcdCluster(members, firstPort, extraFlags);
            try
            {
                foreach (var m in cluster._members)
                {
                    foreach (var port in new[] { m.ClientPort, m.PeerPort })
                    {
                        if (Listens(port)) throw new InvalidOperationException($"127.0.0.1:{port} is taken already (a cluster another test left?): the private cluster needs its own ports.");
                    }
                }
                for (var i = 0; i < members; i++) cluster.Launch(i, "new");
                cluster.WaitHealthy(StartTimeout);
                return cluster;
            }
            catch
            {
                cluster.Dispose();
                throw;
            }
        }

        public bool IsRunning(int i) => _members[i].Running;

        /// <summary>SIGKILL to member <paramref name="i"/>'s process (by pid), then waits until it has exited.</summary>
        public void Kill(int i)
        {
            var m = _members[i];
            if (!m.Running) throw new InvalidOperationException($"member {m.Name} does not run");
            m.Process.Kill();
            if (!m.Process.WaitForExit(10_000)) throw new InvalidOperationException($"member {m.Name} (pid {m.Process.Id}) still runs 10 s after SIGKILL");
            m.Process.WaitForExit();   // its output is drained into the log
            m.Log.Dispose();
        }

        /// <summary>Starts member <paramref name="i"/> again on its data dir (--initial-cluster-state existing); does not wait.</summary>
        public void Restart(int i)
        {
            if (_members[i].Running) throw new InvalidOperationException($"member {_members[i].Name} still runs: Kill it first");
            Launch(i, "existing");
        }

        /// <summary>
        /// The index of the member that reports itself leader (etcdctl endpoint status -w json asked of each running
        /// member), or -1 when none does now.
        /// </summary>
        public int LeaderIndex()
        {
            for (var i = 0; i < _members.Length; i++)
            {
                if (!_members[i].Running) continue;
                var status = Etcdctl.Run(new[] { _members[i].Endpoint }, new[] { "--dial-timeout=1s", "--command-timeout=2s", "endpoint", "status", "-w", "json" }, null, TimeSpan.FromSeconds(10));
                if (!status.Succeeded) continue;
                using var json = JsonDocument.Parse(status.Output);
                foreach (var entry in json.RootElement.EnumerateArray())
                {
                    // etcdctl's JSON leaves out fields that are zero: no "leader" while an election runs.
                    if (!entry.TryGetProperty("Status", out var s) || !s.TryGetProperty("leader", out var leaderField) ||
                        !s.TryGetProperty("header", out var header) || !header.TryGetProperty("member_id", out var selfField)) continue;
                    var leader = leaderField.GetUInt64();
                    if (leader != 0 && selfField.GetUInt64() == leader) return i;
                }
            }
            return -1;
        }

        /// <summary>Polls <see cref="LeaderIndex"/> until a member other than <paramref name="except"/> leads; throws past <paramref name="timeout"/>.</summary>
        public int WaitForLeader(TimeSpan timeout, int except = -1)
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                var leader = LeaderIndex();
                if (leader >= 0 && leader != except) return leader;
                if (clock.Elapsed > timeout) throw new TimeoutException($"no leader{(except >= 0 ? " other than m" + except : "")} within {timeout.TotalSeconds:0.#} s.{Logs()}");
                Thread.Sleep(100);
            }
        }

        /// <summary>Waits until etcdctl endpoint health answers for every running member; throws past <paramref name="timeout"/>.</summary>
        public void WaitHealthy(TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            EtcdctlResult last = null;
            while (clock.Elapsed < timeout)
            {
                var running = RunningEndpoints;
                if (running.Count == 0) throw new InvalidOperationException("no member runs");
                last = Etcdctl.Run(running, new[] { "--dial-timeout=1s", "--command-timeout=2s", "endpoint", "health" }, null, TimeSpan.FromSeconds(15));
                if (last.Succeeded) return;
                Thread.Sleep(200);
            }
            throw new TimeoutException($"the cluster was not healthy within {timeout.TotalSeconds:0.#} s: {last}.{Logs()}");
        }

        /// <summary>The last lines of member <paramref name="i"/>'s log, for failure messages.</summary>
        public string LogTail(int i, int lines = 20)
        {
            var path = _members[i].LogPath;
            if (!File.Exists(path)) return "";
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return string.Join("\n", all.Skip(Math.Max(0, all.Length - lines)));
        }

        public void Dispose()
        {
            foreach (var p in _started)
            {
                try
                {
                    if (!p.HasExited)
                    {
                        p.Kill();
                        p.WaitForExit(10_000);
                    }
                }
                catch (InvalidOperationException)
                {
                    // it exited meanwhile
                }
                p.Dispose();
            }
            foreach (var m in _members) m.Log?.Dispose();
            try
            {
                Directory.Delete(Dir, recursive: true);
            }
            catch (IOException)
            {
                // a member still writing; the temp folder is ours alone and the OS clears it
            }
        }

        private void Launch(int i, string clusterState)
        {
            var m = _members[i];
            Directory.CreateDirectory(m.DataDir, UserOnly);
            var initial = string.Join(",", _members.Select(x => $"{x.Name}=http://127.0.0.1:{x.PeerPort}"));
            var start = new ProcessStartInfo(EtcdBinaries.Etcd)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = "/",
            };
            foreach (var a in new[]
            {
                "--name", m.Name, "--data-dir", m.DataDir,
                "--listen-client-urls", "http://" + m.Endpoint, "--advertise-client-urls", "http://" + m.Endpoint,
                "--listen-peer-urls", $"http://127.0.0.1:{m.PeerPort}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{m.PeerPort}",
                "--initial-cluster", initial, "--initial-cluster-state", clusterState, "--initial-cluster-token", _token,
                "--logger", "zap", "--log-outputs", "stderr",
            }.Concat(_extraFlags))
            {
                start.ArgumentList.Add(a);
            }
            foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("ETCD", StringComparison.Ordinal)).ToList()) start.Environment.Remove(key);

            m.Log = new LogSink(m.LogPath);
            var process = new Process { StartInfo = start };
            var sink = m.Log;
            process.OutputDataReceived += (_, e) => sink.Write(e.Data);
            process.ErrorDataReceived += (_, e) => sink.Write(e.Data);
            process.Start();
            _started.Add(process);
            m.Process = process;
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        private string Logs() => string.Concat(_members.Select((m, i) => $"\n--- {m.Name} ({m.LogPath}):\n{LogTail(i, 8)}"));

        private static bool Listens(int port)
        {
            using var client = new TcpClient();
            try
            {
                return client.ConnectAsync("127.0.0.1", port).Wait(500);
            }
            catch (AggregateException)
            {
                return false;
            }
        }

        private sealed class Member
        {
            public Member(string name, int clientPort, int peerPort, string dir)
            {
                Name = name;
                ClientPort = clientPort;
                PeerPort = peerPort;
                DataDir = Path.Combine(dir, name);
                LogPath = Path.Combine(dir, name + ".log");
            }

            public string Name { get; }
            public int ClientPort { get; }
            public int PeerPort { get; }
            public string DataDir { get; }
            public string LogPath { get; }
            public string Endpoint => $"127.0.0.1:{ClientPort}";
            public Process Process { get; set; }
            public LogSink Log { get; set; }
            public bool Running => Process != null && !Process.HasExited;
        }

        /// <summary>A member's output, appended line by line; lines arriving after Dispose are dropped.</summary>
        private sealed class LogSink : IDisposable
        {
            private readonly StreamWriter _writer;
            private bool _closed;

            public LogSink(string path)
            {
                _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
            }

            public void Write(string line)
            {
                if (line == null) return;
                lock (_writer)
                {
                    if (!_closed) _writer.WriteLine(line);
                }
            }

            public void Dispose()
            {
                lock (_writer)
                {
                    if (_closed) return;
                    _closed = true;
                    _writer.Dispose();
                }
            }
        }
    }
}
