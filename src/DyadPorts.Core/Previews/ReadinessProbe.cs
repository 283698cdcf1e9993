using System;
using System.Net.Sockets;
using System.Text;

namespace DyadPorts.Core.Previews
{
    /// <summary>
    /// Asks 127.0.0.1:port for an HTTP answer. A bare TCP connect is not enough: docker-proxy accepts
    /// connections on a published port before anything inside the container listens.
    /// </summary>
    public static class ReadinessProbe
    {
        private static readonly byte[] Request = Encoding.ASCII.GetBytes("GET / HTTP/1.0\r\n\r\n");

        public static bool Answers(int port, TimeSpan timeout) => Answers(null, port, timeout);

        /// <summary>As <see cref="Answers(int,TimeSpan)"/>, at <paramref name="host"/>: a remote engine's host name; null or "localhost" means 127.0.0.1.</summary>
        public static bool Answers(string host, int port, TimeSpan timeout)
        {
            var target = host == null || host == Engines.EngineHost.Local ? "127.0.0.1" : host.Trim('[', ']');
            try
            {
                using (var client = new TcpClient())
                {
                    var connect = client.ConnectAsync(target, port);
                    if (!connect.Wait(timeout) || !client.Connected) return false;
                    var stream = client.GetStream();
                    stream.ReadTimeout = (int)timeout.TotalMilliseconds;
                    stream.Write(Request, 0, Request.Length);
                    var buffer = new byte[1];
                    return stream.Read(buffer, 0, 1) == 1;
                }
            }
            catch (Exception e) when (e is SocketException || e is System.IO.IOException || e is AggregateException || e is ObjectDisposedException)
            {
                return false;
            }
        }
    }
}
