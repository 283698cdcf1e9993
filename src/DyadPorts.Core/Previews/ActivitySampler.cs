using System;
using System.Globalization;
using System.Linq;
using System.Net.NetworkInformation;
using System.Threading;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Engines;
using DyadPorts.Core.State;

namespace DyadPorts.Core.Previews
{
    /// <summary>
    /// Takes one sample of a preview's use, choosing the signal. A container: the connections it accepted and those
    /// attached to its port, from its own network namespace (<see cref="ContainerConnectionReader"/>); when those
    /// cannot be known (a remote engine, a VM, host networking, a reused pid), its transmitted bytes, judged with
    /// <see cref="IdleJudge.QuietBytes"/>. A process: the TCP connections to its port on this host.
    /// Says in verbose output which signal it used and why.
    /// </summary>
    public sealed class ActivitySampler
    {
        private readonly ContainerEngine _engine;
        private readonly ContainerConnectionReader _reader;

        public ActivitySampler(ContainerEngine engine, ContainerConnectionReader reader)
        {
            _engine = engine;
            _reader = reader;
        }

        /// <returns>Null when nothing can be known: the preview is then never judged idle on a guess.</returns>
        public ActivitySample Sample(AllocationRecord record, string preview, IOperationLog log, CancellationToken ct)
        {
            var now = DateTimeOffset.UtcNow;
            if (record.ContainerId == null)
            {
                var connections = ConnectionsTo(record.Port, out var established);
                if (connections == null)
                {
                    log.Verbose($"App {record.AppId}: the host's connection table cannot be read; it is never judged idle on a guess.");
                    return null;
                }
                return new ActivitySample { At = now, Preview = preview, Signal = ActivitySample.ConnectionsSignal, Value = connections, Attached = established };
            }
            if (_engine == null) return null;
            try
            {
                var whyNot = $"the engine at {_engine.Endpoint} is not reached through a local unix socket, so its containers' processes are not this machine's";
                if (ContainerConnectionReader.IsLocalEndpoint(_engine.Endpoint))
                {
                    var inspected = _engine.InspectOrNull(record.ContainerId, ct);
                    if (inspected == null)
                    {
                        log.Verbose($"App {record.AppId}: its container is gone; skipped.");
                        return null;
                    }
                    var counters = _reader.Read(record.ContainerId, inspected.State?.Pid ?? 0, inspected.HostConfig?.NetworkMode, record.Port, out whyNot);
                    if (counters != null)
                    {
                        log.Verbose($"App {record.AppId}: judged by the connections its container accepted ({counters.Accepted}, PassiveOpens of /proc/{inspected.State.Pid}/net/snmp) " +
                            $"and those open to port {record.Port} ({counters.Attached}).");
                        return new ActivitySample
                        {
                            At = now, Preview = preview, Signal = ActivitySample.AcceptedSignal,
                            Value = counters.Accepted.ToString(CultureInfo.InvariantCulture), Attached = counters.Attached,
                        };
                    }
                }
                var bytes = _engine.NetworkBytes(record.ContainerId, ct);
                if (bytes == null)
                {
                    log.Verbose($"App {record.AppId}: its container's connections cannot be counted ({whyNot}), and the engine reports no network counters for it; it is never judged idle on a guess.");
                    return null;
                }
                log.Verbose($"App {record.AppId}: its container's connections cannot be counted ({whyNot}); judged by its transmitted bytes instead " +
                    $"({bytes.Value.Transmitted}): a rise of at most {IdleJudge.QuietBytes} bytes between two samples counts as no use (neighbour and ARP probes stay under it), " +
                    "more as use, so when in doubt it is kept. An open connection that sends nothing cannot be seen this way.");
                return new ActivitySample { At = now, Preview = preview, Signal = ActivitySample.BytesSignal, Value = bytes.Value.Transmitted.ToString(CultureInfo.InvariantCulture) };
            }
            catch (EngineRefusedException e)
            {
                log.Verbose($"App {record.AppId}: the engine gives nothing about its container ({e.Message}); skipped.");
                return null;
            }
        }

        /// <summary>The TCP connections to the port other than its listener (established, TIME_WAIT, ...), as one sorted text; null when unknown.</summary>
        internal static string ConnectionsTo(int port, out int established)
        {
            established = 0;
            try
            {
                var connections = IPGlobalProperties.GetIPGlobalProperties().GetActiveTcpConnections()
                    .Where(c => c.LocalEndPoint.Port == port && c.State != TcpState.Listen).ToList();
                established = connections.Count(c => c.State == TcpState.Established);
                return string.Join(" ", connections.Select(c => $"{c.RemoteEndPoint}/{c.State}").OrderBy(x => x, StringComparer.Ordinal));
            }
            catch (NetworkInformationException)
            {
                return null;
            }
        }
    }
}
