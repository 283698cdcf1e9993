using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using Docker.DotNet;
using Docker.DotNet.Models;
using DyadPorts.Core.Engines;
using Xunit;

namespace DyadPorts.Tests.Support
{
    /// <summary>
    /// A real second Docker host on this machine: a dockerd in a network namespace this fixture creates, serving
    /// tcp://10.231.12.2:2376 with TLS certificates it generates (shared/notes/remote-engine.md). Its own data-root,
    /// exec-root, pidfile and socket live in a temp folder; it is started from '/' and stopped by its pid; the
    /// namespace and the veth pair are deleted afterwards. Traffic goes only to the namespace's own address.
    /// Needs root, iproute2, openssl, nsenter, dockerd and the docker CLI (tools/setup-engines.sh installs docker.io).
    /// </summary>
    public sealed class RemoteDockerHost : IDisposable
    {
        public const string Namespace = "dpt12-hostb";
        public const string HostVeth = "dpt12-veth0";
        public const string PeerVeth = "dpt12-veth1";
        public const string HostSideAddress = "10.231.12.1";
        public const string Address = "10.231.12.2";
        public const int TlsPort = 2376;

        private int _pid;

        public RemoteDockerHost()
        {
            Dir = Path.Combine("/tmp", "dpt12-" + Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(Dir);
            CertDir = Directory.CreateDirectory(Path.Combine(Dir, "client")).FullName;
            WrongCaDir = Directory.CreateDirectory(Path.Combine(Dir, "wrong-ca")).FullName;
            Image = Environment.GetEnvironmentVariable("DYADPORTS_TEST_IMAGE") is string image && image.Length > 0 ? image : "localhost/dyadports-test:remote";
            try
            {
                RemoveNetwork();
                CreateNetwork();
                CreateCertificates();
                StartDaemon();
                Client = new DockerClientConfiguration(new Uri(Socket)).CreateClient();
                ImportImage();
                Engine = new ContainerEngine(Endpoint, EngineKind.Docker, Tls);
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public string Dir { get; }
        /// <summary>ca.pem, cert.pem and key.pem, as DOCKER_CERT_PATH expects them.</summary>
        public string CertDir { get; }
        /// <summary>The right client certificate and key, with another CA's ca.pem: the server must be refused.</summary>
        public string WrongCaDir { get; }
        public static string Endpoint => $"tcp://{Address}:{TlsPort}";
        /// <summary>The daemon's own unix socket, for setting up test situations.</summary>
        public string Socket => "unix://" + Path.Combine(Dir, "docker.sock");
        public EngineTls Tls => new EngineTls(CertDir, "the test's DOCKER_CERT_PATH");
        public string Image { get; }
        public DockerClient Client { get; private set; }
        /// <summary>DyadPorts' own client over TCP with TLS.</summary>
        public ContainerEngine Engine { get; private set; }

        /// <summary>Creates and starts a container on the remote host, publishing <paramref name="hostPort"/> there.</summary>
        public string Run(string name, int hostPort)
        {
            var key = $"{hostPort}/tcp";
            var created = Client.Containers.CreateContainerAsync(new CreateContainerParameters
            {
                Name = name,
                Image = Image,
                Cmd = new List<string> { "httpd", "-f", "-p", hostPort.ToString(CultureInfo.InvariantCulture), "-h", "/www" },
                ExposedPorts = new Dictionary<string, EmptyStruct> { [key] = default },
                Labels = new Dictionary<string, string> { [TestRun.Label] = TestRun.Id },
                HostConfig = new HostConfig { PortBindings = new Dictionary<string, IList<PortBinding>> { [key] = new List<PortBinding> { new PortBinding { HostPort = hostPort.ToString(CultureInfo.InvariantCulture) } } } },
            }).GetAwaiter().GetResult();
            Client.Containers.StartContainerAsync(created.ID, new ContainerStartParameters()).GetAwaiter().GetResult();
            return created.ID;
        }

        /// <summary>Every container of this private daemon was made by these tests.</summary>
        public void CleanUp()
        {
            if (Client == null) return;
            foreach (var c in Client.Containers.ListContainersAsync(new ContainersListParameters { All = true }).GetAwaiter().GetResult())
            {
                try { Client.Containers.RemoveContainerAsync(c.ID, new ContainerRemoveParameters { Force = true }).GetAwaiter().GetResult(); }
                catch (DockerContainerNotFoundException) { }
            }
        }

        private static void CreateNetwork()
        {
            Sh("ip", "netns", "add", Namespace);
            Sh("ip", "link", "add", HostVeth, "type", "veth", "peer", "name", PeerVeth);
            Sh("ip", "link", "set", PeerVeth, "netns", Namespace);
            Sh("ip", "addr", "add", HostSideAddress + "/24", "dev", HostVeth);
            Sh("ip", "link", "set", HostVeth, "up");
            InNamespace("ip", "addr", "add", Address + "/24", "dev", PeerVeth);
            InNamespace("ip", "link", "set", PeerVeth, "up");
            InNamespace("ip", "link", "set", "lo", "up");
        }

        /// <summary>Deletes the namespace and the veth by their own names; a crashed earlier run may have left them.</summary>
        private static void RemoveNetwork()
        {
            if (File.Exists("/var/run/netns/" + Namespace)) Sh(true, "ip", "netns", "del", Namespace);
            if (Directory.Exists("/sys/class/net/" + HostVeth)) Sh(true, "ip", "link", "del", HostVeth);
        }

        private void CreateCertificates()
        {
            var ca = Path.Combine(Dir, "ca");
            Directory.CreateDirectory(ca);
            string In(string f) => Path.Combine(ca, f);
            OpenSsl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", In("ca-key.pem"), "-out", In("ca.pem"), "-days", "2", "-subj", "/CN=dpt12-test-ca");
            OpenSsl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", In("server-key.pem"), "-out", In("server.csr"), "-subj", "/CN=dpt12-hostb");
            File.WriteAllText(In("ext.cnf"), $"subjectAltName=IP:{Address}\nextendedKeyUsage=serverAuth\n");
            OpenSsl("x509", "-req", "-in", In("server.csr"), "-CA", In("ca.pem"), "-CAkey", In("ca-key.pem"), "-CAcreateserial", "-out", In("server-cert.pem"), "-days", "2", "-extfile", In("ext.cnf"));
            OpenSsl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", Path.Combine(CertDir, "key.pem"), "-out", In("client.csr"), "-subj", "/CN=dpt12-client");
            File.WriteAllText(In("cext.cnf"), "extendedKeyUsage=clientAuth\n");
            OpenSsl("x509", "-req", "-in", In("client.csr"), "-CA", In("ca.pem"), "-CAkey", In("ca-key.pem"), "-CAcreateserial", "-out", Path.Combine(CertDir, "cert.pem"), "-days", "2", "-extfile", In("cext.cnf"));
            File.Copy(In("ca.pem"), Path.Combine(CertDir, "ca.pem"));

            // Another CA that the server's certificate does not chain to.
            OpenSsl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", In("other-ca-key.pem"), "-out", Path.Combine(WrongCaDir, "ca.pem"), "-days", "2", "-subj", "/CN=dpt12-other-ca");
            File.Copy(Path.Combine(CertDir, "cert.pem"), Path.Combine(WrongCaDir, "cert.pem"));
            File.Copy(Path.Combine(CertDir, "key.pem"), Path.Combine(WrongCaDir, "key.pem"));
        }

        private void StartDaemon()
        {
            var ca = Path.Combine(Dir, "ca");
            var args = new[]
            {
                "--net=/var/run/netns/" + Namespace, "dockerd",
                "--data-root", Path.Combine(Dir, "data"), "--exec-root", Path.Combine(Dir, "exec"), "--pidfile", Path.Combine(Dir, "docker.pid"),
                "-H", $"tcp://{Address}:{TlsPort}", "-H", Socket, "--storage-driver", "vfs",
                "--tlsverify", "--tlscacert", Path.Combine(ca, "ca.pem"), "--tlscert", Path.Combine(ca, "server-cert.pem"), "--tlskey", Path.Combine(ca, "server-key.pem"),
            };
            // nsenter --net execs dockerd in place: the pid started here is dockerd's. Not `ip netns exec`, which remounts /sys.
            var command = "exec nsenter " + string.Join(" ", args.Select(Quote)) + " > " + Quote(Path.Combine(Dir, "dockerd.log")) + " 2>&1 < /dev/null";
            var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = "/" };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(command);
            foreach (var v in new[] { "DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTEXT" }) start.Environment.Remove(v);
            using (var process = Process.Start(start)) _pid = process.Id;

            var client = new DockerClientConfiguration(new Uri(Socket)).CreateClient();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            while (true)
            {
                try
                {
                    using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3));
                    client.System.PingAsync(cts.Token).GetAwaiter().GetResult();
                    break;
                }
                catch (Exception) when (DateTime.UtcNow < deadline && Alive(_pid))
                {
                    Thread.Sleep(500);
                }
                catch (Exception e)
                {
                    throw new InvalidOperationException($"The remote test dockerd did not answer at {Socket}: {e.Message}. Its log:\n{Tail(Path.Combine(Dir, "dockerd.log"))}", e);
                }
            }
            client.Dispose();
        }

        /// <summary>The test image, built from busybox as setup-engines.sh builds it, imported into this daemon's empty store.</summary>
        private void ImportImage()
        {
            var root = Path.Combine(Dir, "image");
            Directory.CreateDirectory(Path.Combine(root, "bin"));
            Directory.CreateDirectory(Path.Combine(root, "www"));
            Directory.CreateDirectory(Path.Combine(root, "tmp"));
            File.Copy("/bin/busybox", Path.Combine(root, "bin", "busybox"));
            foreach (var link in new[] { "sh", "httpd", "sleep", "echo", "cat", "ls", "true", "false" }) File.CreateSymbolicLink(Path.Combine(root, "bin", link), "busybox");
            File.WriteAllText(Path.Combine(root, "www", "index.html"), "dyadports-test\n");
            var tar = Path.Combine(Dir, "image.tar");
            Sh("tar", "--owner=0", "--group=0", "--numeric-owner", "-C", root, "-cf", tar, ".");
            Sh("docker", "-H", Socket, "import", "--change", "LABEL dyadports.test-image=remote", tar, Image);
        }

        public void Dispose()
        {
            try { CleanUp(); } catch (Exception) { /* the daemon may be gone already */ }
            Client?.Dispose();
            Engine?.Dispose();
            StopDaemon();
            RemoveNetwork();
            try { Directory.Delete(Dir, true); } catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { }
        }

        /// <summary>SIGTERM to the pid this fixture started (its managed containerd goes with it), SIGKILL after 20 s.</summary>
        private void StopDaemon()
        {
            if (_pid <= 0 || !Alive(_pid)) return;
            Sh(true, "kill", "-TERM", _pid.ToString(CultureInfo.InvariantCulture));
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (Alive(_pid) && DateTime.UtcNow < deadline) Thread.Sleep(200);
            if (Alive(_pid)) Sh(true, "kill", "-KILL", _pid.ToString(CultureInfo.InvariantCulture));
            while (Alive(_pid) && DateTime.UtcNow < deadline + TimeSpan.FromSeconds(5)) Thread.Sleep(200);
        }

        private static bool Alive(int pid)
        {
            // A zombie (our exited child not yet reaped) counts as gone.
            var stat = $"/proc/{pid}/stat";
            try { return File.Exists(stat) && !File.ReadAllText(stat).Contains(") Z "); }
            catch (IOException) { return false; }
        }

        private static void InNamespace(params string[] args) => Sh(new[] { "nsenter", "--net=/var/run/netns/" + Namespace }.Concat(args).ToArray());

        private static void OpenSsl(params string[] args) => Sh(new[] { "openssl" }.Concat(args).ToArray());

        private static void Sh(params string[] args) => Tools.Run(args);

        private static void Sh(bool mayFail, params string[] args) => Tools.Run(null, mayFail, args);

        private static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";

        private static string Tail(string path)
        {
            try { return string.Join("\n", File.ReadAllLines(path).TakeLast(20)); } catch (IOException) { return "(no log)"; }
        }
    }

    /// <summary>The remote-host tests share one second host, and run one at a time.</summary>
    [CollectionDefinition(Name, DisableParallelization = true)]
    public sealed class RemoteEngineCollection : ICollectionFixture<RemoteDockerHost>
    {
        public const string Name = "Remote engine host";
    }
}
