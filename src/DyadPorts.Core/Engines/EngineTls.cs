using System.IO;

namespace DyadPorts.Core.Engines
{
    /// <summary>The TLS files a tcp:// engine is reached with: the CA the server is verified against, and the client's certificate and key.</summary>
    public sealed class EngineTls
    {
        public EngineTls(string directory, string source)
        {
            CaPath = Path.Combine(directory, "ca.pem");
            CertPath = Path.Combine(directory, "cert.pem");
            KeyPath = Path.Combine(directory, "key.pem");
            Source = source;
        }

        public string CaPath { get; }
        public string CertPath { get; }
        public string KeyPath { get; }
        /// <summary>Where they came from: "DOCKER_CERT_PATH", "docker context remote".</summary>
        public string Source { get; }

        public override string ToString() => $"ca {CaPath}, cert {CertPath}, key {KeyPath} (from {Source})";
    }
}
