using System;
using DyadPorts.Core.Allocation;
using DyadPorts.Core.Availability;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.Previews;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Session
{
    /// <summary>
    /// Everything a command takes from the environment, resolved once per command from the session's injected
    /// environment: the range, the preview image, AUTO_KILL_PORT, the resource limits, the host probe, the state's
    /// location and the environment that engine resolution reads. Cmdlets read settings, never variables. Each
    /// value is parsed when first asked for, so a malformed variable fails only the commands that use it.
    /// </summary>
    public sealed class DyadSettings
    {
        private readonly Lazy<PortRange> _range;
        private readonly Lazy<ResourceLimits> _limits;
        private readonly Lazy<StateLocation> _state;
        private readonly Lazy<bool> _engineFeed;
        private readonly Lazy<string> _agentPath;

        /// <summary>on (the default) or off: whether a warm session reads its engines through a view fed by their events.</summary>
        public const string EngineFeedVariable = "DYAD_PORTS_ENGINE_FEED";

        public DyadSettings(Func<string, string> environment)
        {
            Environment = environment ?? throw new ArgumentNullException(nameof(environment));
            _state = new Lazy<StateLocation>(() => StateLocation.Resolve(environment));
            Image = NonEmpty(environment(PreviewRequest.ImageVariable)) ?? PreviewRequest.DefaultImage;
            AutoKillPort = EnvironmentFlags.Parse(environment("AUTO_KILL_PORT")) == true;
            _range = new Lazy<PortRange>(() => PortRange.Resolve(null, environment));
            _engineFeed = new Lazy<bool>(() => ParseEngineFeed(environment(EngineFeedVariable)));
            _agentPath = new Lazy<string>(() => Agent.AgentSocket.Resolve(environment));
            _limits = new Lazy<ResourceLimits>(() => ResourceLimits.Parse(environment(ResourceLimits.CpuVariable), environment(ResourceLimits.MemoryVariable)));
        }

        /// <summary>
        /// The command only looks (-WhatIf): it writes no file of its own, not even a cache (the engine-ports file is read,
        /// never saved). What it would change, it asks ShouldProcess about, as always.
        /// </summary>
        public bool WritesNothing { get; init; }

        /// <summary>The environment the settings came from; engine resolution reads it (DOCKER_HOST, contexts, ...).</summary>
        public Func<string, string> Environment { get; }

        /// <summary>
        /// DYAD_PORTS_STATE as a location: a path, else the per-user default file (<see cref="StateStore.ResolvePath"/>), or an
        /// etcd:// or etcds:// URL. Any other scheme fails the commands that read the state with StateLocationInvalid.
        /// </summary>
        public StateLocation State => _state.Value;

        /// <summary>The state file's path; null for a fleet state on etcd.</summary>
        public string StatePath => State.Path;

        /// <summary>
        /// This machine's folder for what stays local whatever the state's location: the state file's folder, or for a
        /// fleet state the per-user default one ($XDG_STATE_HOME/dyadports). Process previews keep their logs under it.
        /// </summary>
        public string LocalFolder => System.IO.Path.GetDirectoryName(State.Path ?? StateStore.DefaultPath(Environment)) ?? ".";

        /// <summary>DYAD_PREVIEW_IMAGE, else node:22-alpine.</summary>
        public string Image { get; }

        /// <summary>AUTO_KILL_PORT as a flag (true/1/yes, any case; anything else is off).</summary>
        public bool AutoKillPort { get; }

        /// <summary>DYAD_PORT_RANGE, else 32100-32200.</summary>
        public PortRange Range => _range.Value;

        /// <summary>CONTAINER_CPU_LIMIT and CONTAINER_MEMORY_LIMIT.</summary>
        public ResourceLimits Limits => _limits.Value;

        /// <summary>-PortRange when given, else <see cref="Range"/>.</summary>
        public PortRange RangeOr(string explicitRange) => string.IsNullOrWhiteSpace(explicitRange) ? Range : PortRange.Parse(explicitRange);

        /// <summary>The host probe for an engine endpoint: by OS and DYAD_PORTS_HOST_PROBE, or none for another host's engine.</summary>
        public Func<IHostPortProbe> HostProbe(string endpoint) => HostProbes.Factory(EngineHost.IsLocal(endpoint), Environment, HostProbes.CurrentOs);

        /// <summary>
        /// DYAD_PORTS_ENGINE_FEED: on (or unset) lets the session follow each engine's events after its second call and
        /// answer from that view; off lists on every call. Anything else fails the commands that use an engine with EngineFeedInvalid.
        /// </summary>
        public bool EngineFeed => _engineFeed.Value;

        /// <summary>
        /// DYAD_PORTS_AGENT: the socket of the agent a command asks for an engine's view when its session has none live
        /// (unset: the per-user default; off: none); null for none. A relative path fails the commands that use an engine
        /// with AgentSocketInvalid. With DYAD_PORTS_ENGINE_FEED off no agent is asked either: every call lists.
        /// </summary>
        public string AgentPath => _agentPath.Value;

        internal static bool ParseEngineFeed(string value)
        {
            switch (value?.Trim().ToLowerInvariant())
            {
                case null: case "": case "on": return true;
                case "off": return false;
                default:
                    throw new DyadPortsException(ErrorIds.EngineFeedInvalid, FailureCategory.InvalidArgument, value,
                        $"{EngineFeedVariable} is '{value}'; it takes on (the default: a warm session follows the engine's events) or off (every call lists the engine's containers).");
            }
        }

        private static string NonEmpty(string value) => string.IsNullOrWhiteSpace(value) ? null : value;
    }
}
