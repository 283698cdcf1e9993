// Why a test that stops its listener and at once asserts the port free fails now and then when other tests start
// processes meanwhile: .NET starts a child with vfork, and the child holds every descriptor (close-on-exec included)
// until its exec. A listener stopped in that window still listens, in the child, for as long as the child takes to exec.
// Loops N times: start a [::] v6-only listener on 21799, stop it, and bind-probe the port at once (as HostPortProbe
// does, SO_REUSEADDR); two threads start /bin/true meanwhile unless a second argument is given. Counts failed probes.
//   dotnet run --project bench/VforkRace -c Release -- 50000          (with process starts)
//   dotnet run --project bench/VforkRace -c Release -- 50000 noforks  (the control)
// Raw output: docs/bench/vfork-race-2026-11-30.txt. The tests it explains: tests/DyadPorts.Tests/Support/HostListenerCollection.cs.
using System.Diagnostics; using System.Net; using System.Net.Sockets;
var stop = false; int starts = 0;
var forkers = Enumerable.Range(0, 2).Select(_ => new Thread(() => { while (!Volatile.Read(ref stop)) { if (args.Length > 1) { Thread.Sleep(1); continue; } using var p = Process.Start(new ProcessStartInfo("/bin/true") { UseShellExecute = false }); p!.WaitForExit(); Interlocked.Increment(ref starts); } })).ToList();
forkers.ForEach(t => t.Start());
int fails = 0, n = int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture);
for (int i = 0; i < n; i++) {
  var l = new TcpListener(IPAddress.IPv6Any, 21799); l.Server.DualMode = false;
  for (var tries = 0; ; tries++) { try { l.Start(); break; } catch (SocketException) { if (tries > 1000) throw; Thread.Sleep(1); } }
  l.Stop();
  var s = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = false };
  s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
  try { s.Bind(new IPEndPoint(IPAddress.IPv6Any, 21799)); s.Listen(1); } catch (SocketException) { fails++; }
  s.Dispose();
}
stop = true; forkers.ForEach(t => t.Join());
Console.WriteLine($"{n} stop-then-bind cycles, {starts} process starts meanwhile on 2 threads: {fails} binds right after a stop failed");
