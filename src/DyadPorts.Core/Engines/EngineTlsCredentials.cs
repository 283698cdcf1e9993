using System;
using System.IO;
using System.Net.Security;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Docker.DotNet;
using Docker.DotNet.X509;
using DyadPorts.Core.Diagnostics;

namespace DyadPorts.Core.Engines
{
    /// <summary>
    /// Docker.DotNet.X509 client credentials from cert.pem/key.pem (PKCS#1 or PKCS#8, as OpenSSL 3 writes them, through
    /// X509Certificate2.CreateFromPemFile), with the server verified against ca.pem alone, never the system store.
    /// Typed as Docker.DotNet's <see cref="Credentials"/>: a caller that compiles a call to it (the JIT, for
    /// ContainerEngine's client factory) then needs no type of Docker.DotNet.X509, so a unix socket never loads that assembly.
    /// </summary>
    public static class EngineTlsCredentials
    {
        public static Credentials Create(string endpoint, EngineTls tls)
        {
            X509Certificate2 client;
            X509Certificate2 ca;
            try
            {
                client = X509Certificate2.CreateFromPemFile(tls.CertPath, tls.KeyPath);
                if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
                {
                    // SChannel cannot use an ephemeral PEM key for client authentication.
                    client = X509CertificateLoader.LoadPkcs12(client.Export(X509ContentType.Pkcs12), null);
                }
                ca = X509CertificateLoader.LoadCertificateFromFile(tls.CaPath); // DER or PEM
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is CryptographicException || e is ArgumentException)
            {
                throw new DyadPortsException(ErrorIds.EngineUnreachable, FailureCategory.ConnectionError, endpoint,
                    $"The TLS files for the engine at '{endpoint}' cannot be loaded: {e.Message} TLS files used: {tls}.", e);
            }
            return new CertificateCredentials(client) { ServerCertificateValidationCallback = (sender, certificate, chain, errors) => Verify(certificate, errors, ca) };
        }

        /// <summary>The server's certificate must chain to <paramref name="ca"/> and name the host; the system store is not consulted.</summary>
        internal static bool Verify(X509Certificate certificate, SslPolicyErrors errors, X509Certificate2 ca)
        {
            if (certificate == null) return false;
            if ((errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0) return false;
            using (var chain = new X509Chain())
            {
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                chain.ChainPolicy.VerificationFlags = X509VerificationFlags.NoFlag;
                var server = certificate as X509Certificate2 ?? new X509Certificate2(certificate);
                return chain.Build(server);
            }
        }
    }
}
