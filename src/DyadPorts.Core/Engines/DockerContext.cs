namespace DyadPorts.Core.Engines
{
    /// <summary>A docker context as the docker CLI stores it under $DOCKER_CONFIG/contexts.</summary>
    public sealed class DockerContext
    {
        public string Name { get; set; }
        public string Host { get; set; }
        public bool SkipTlsVerify { get; set; }
        /// <summary>The context's own TLS folder (contexts/tls/&lt;sha256&gt;/docker), when it has one.</summary>
        public EngineTls Tls { get; set; }
    }
}
