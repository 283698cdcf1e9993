using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Reflection;

namespace DyadPorts.Core.Diagnostics
{
    /// <summary>
    /// Categories the cmdlet layer maps one to one onto PowerShell's ErrorCategory (same names),
    /// so the core stays free of System.Management.Automation.
    /// </summary>
    public enum FailureCategory
    {
        InvalidArgument,
        InvalidData,
        InvalidOperation,
        ObjectNotFound,
        ResourceUnavailable,
        ResourceExists,
        ConnectionError,
        OperationTimeout,
        ReadError,
        WriteError,
        OperationStopped,
        SecurityError,
        PermissionDenied,
        ResourceBusy,
        NotImplemented,
    }

    /// <summary>A failure with its own error id, category and the value that caused it.</summary>
    public class DyadPortsException : Exception
    {
        public DyadPortsException(string errorId, FailureCategory category, object target, string message, Exception inner = null)
            : base(message, inner)
        {
            ErrorId = errorId;
            Category = category;
            Target = target;
        }

        public string ErrorId { get; }
        public FailureCategory Category { get; }
        public object Target { get; }
        /// <summary>Whether this failure dooms every input of the command (see <see cref="ErrorIds.IsTerminating"/>).</summary>
        public bool IsTerminating => ErrorIds.IsTerminating(ErrorId);
    }

    /// <summary>
    /// The engine answered, and said no: an API error (HTTP status and the engine's own words). Raised by
    /// <c>ContainerEngine</c> so that no Docker.DotNet exception leaves it; callers read <see cref="EngineMessage"/>
    /// to recognise a port or name conflict.
    /// </summary>
    public sealed class EngineRefusedException : DyadPortsException
    {
        public EngineRefusedException(string endpoint, string operation, HttpStatusCode status, string engineMessage, Exception inner)
            : base(ErrorIds.EngineRequestFailed, FailureCategory.InvalidOperation, endpoint,
                $"The engine at '{endpoint}' refused to {operation}: {FirstLine(engineMessage)} (HTTP {(int)status}).", inner)
        {
            StatusCode = status;
            EngineMessage = engineMessage ?? string.Empty;
        }

        public HttpStatusCode StatusCode { get; }
        public string EngineMessage { get; }

        /// <summary>The engines' words for "someone else has this host port": docker and podman, Linux and macOS.</summary>
        public bool IsPortConflict => PortConflictTexts.Any(text => EngineMessage.Contains(text, StringComparison.OrdinalIgnoreCase));

        private static readonly string[] PortConflictTexts = { "port is already allocated", "address already in use", "proxy already running" };

        /// <summary>docker: 'Conflict. The container name "/x" is already in use'; podman: 'container name "x" is already in use'.</summary>
        public bool IsNameConflict =>
            StatusCode == HttpStatusCode.Conflict || EngineMessage.Contains("is already in use", StringComparison.OrdinalIgnoreCase);

        /// <summary>
        /// The engine has no such container: 404 from both, and podman 4.3's 500 "no such container" for one removed while
        /// the call was under way ("container … does not exist in database: no such container").
        /// </summary>
        public bool IsNoSuchContainer =>
            StatusCode == HttpStatusCode.NotFound
            || (StatusCode == HttpStatusCode.InternalServerError && EngineMessage.Contains("no such container", StringComparison.OrdinalIgnoreCase));

        internal static string FirstLine(string text) => (text ?? string.Empty).Split('\n')[0].Trim();
    }

    /// <summary>Every error id the module raises, in one place, with whether it stops the whole command.</summary>
    public static class ErrorIds
    {
        // ---- tied to one input: non-terminating, the pipeline goes on ----
        public const string PortRangeExhausted = nameof(PortRangeExhausted);
        public const string InvalidPort = nameof(InvalidPort);
        public const string AppIdNotFound = nameof(AppIdNotFound);
        public const string PortConflictRetriesExhausted = nameof(PortConflictRetriesExhausted);
        public const string PreviewExitedEarly = nameof(PreviewExitedEarly);
        public const string PreviewTimeout = nameof(PreviewTimeout);
        public const string ContainerNameInUse = nameof(ContainerNameInUse);
        public const string ContainerStartFailed = nameof(ContainerStartFailed);
        public const string PreviewCommandFailed = nameof(PreviewCommandFailed);
        public const string PreviewStopFailed = nameof(PreviewStopFailed);
        public const string PreviewPathNotFound = nameof(PreviewPathNotFound);
        public const string PreviewPathNotAbsolute = nameof(PreviewPathNotAbsolute); // a remote engine's -Path
        public const string PreviewStartInProgress = nameof(PreviewStartInProgress);
        public const string EngineRequestFailed = nameof(EngineRequestFailed);
        public const string PreviewOnOtherEngine = nameof(PreviewOnOtherEngine);
        public const string InvalidAppIdPattern = nameof(InvalidAppIdPattern);
        public const string PreviewLogFailed = nameof(PreviewLogFailed);
        public const string StateFileNotFound = nameof(StateFileNotFound); // Copy-DyadPortState's -Source, one per piped source
        public const string StateRecordForeign = nameof(StateRecordForeign); // an etcd key of one app that holds another tool's value

        // ---- doom every input: terminating ----
        public const string InvalidPortRange = nameof(InvalidPortRange);
        public const string ImageNotFound = nameof(ImageNotFound); // -Image (or DYAD_PREVIEW_IMAGE) is the command's, not one input's
        public const string EngineUnreachable = nameof(EngineUnreachable);
        public const string InvalidEngineEndpoint = nameof(InvalidEngineEndpoint);
        public const string StateFileCorrupt = nameof(StateFileCorrupt);
        public const string StateLockTimeout = nameof(StateLockTimeout);
        public const string StateWriteFailed = nameof(StateWriteFailed);
        public const string StateReadFailed = nameof(StateReadFailed);
        public const string StateFileNewerVersion = nameof(StateFileNewerVersion);
        public const string StateFileUnsafe = nameof(StateFileUnsafe);
        public const string MetricsWriteFailed = nameof(MetricsWriteFailed);
        public const string InvalidResourceLimit = nameof(InvalidResourceLimit);
        public const string InvalidIdleFor = nameof(InvalidIdleFor);
        public const string UnexpectedFailure = nameof(UnexpectedFailure);
        public const string InvalidHostProbe = nameof(InvalidHostProbe);
        public const string EngineSshUnsupported = nameof(EngineSshUnsupported);
        public const string StateStoreUnavailable = nameof(StateStoreUnavailable);
        public const string StateStoreBusy = nameof(StateStoreBusy);
        public const string StateBackupFailed = nameof(StateBackupFailed);
        public const string StateStoreRefused = nameof(StateStoreRefused);
        public const string StateStoreFull = nameof(StateStoreFull);
        public const string StateLocationInvalid = nameof(StateLocationInvalid);
        public const string StateCopyConflict = nameof(StateCopyConflict);
        public const string RecordOnOtherMachine = nameof(RecordOnOtherMachine);
        public const string EngineFeedInvalid = nameof(EngineFeedInvalid);
        public const string EngineListRefused = nameof(EngineListRefused);
        public const string EngineVersionRefused = nameof(EngineVersionRefused); // the kind of an engine the rules only inferred cannot be asked
        public const string AgentSocketInvalid = nameof(AgentSocketInvalid); // DYAD_PORTS_AGENT is neither off nor an absolute path
        public const string AgentSocketUnsafe = nameof(AgentSocketUnsafe); // Start-DyadPortAgent: the socket's folder or what is at its path is not this user's own
        public const string AgentSocketInUse = nameof(AgentSocketInUse); // Start-DyadPortAgent: another agent answers at the path
        public const string AgentListenFailed = nameof(AgentListenFailed);
        public const string AgentUnsupported = nameof(AgentUnsupported); // Start-DyadPortAgent off Linux
        public const string AgentNeedsEngine = nameof(AgentNeedsEngine); // Start-DyadPortAgent: the resolved engine is the process engine
        public const string AgentNotRunning = nameof(AgentNotRunning); // Get-DyadPortAgent: nothing at the path, or a socket nobody listens at
        public const string AgentNotAnswering = nameof(AgentNotAnswering); // Get-DyadPortAgent: no status within the bound, or not one this module reads
        public const string AgentNotOwned = nameof(AgentNotOwned); // Get-DyadPortAgent: the process at the socket runs as another user

        private static readonly HashSet<string> Terminating = new HashSet<string>(StringComparer.Ordinal)
        {
            InvalidPortRange, ImageNotFound, EngineUnreachable, InvalidEngineEndpoint, StateFileCorrupt, StateLockTimeout,
            StateWriteFailed, StateReadFailed, StateFileNewerVersion, StateFileUnsafe, MetricsWriteFailed, InvalidHostProbe, EngineSshUnsupported,
            InvalidResourceLimit, InvalidIdleFor, UnexpectedFailure,
            StateStoreUnavailable, StateStoreBusy, StateBackupFailed, StateStoreRefused, StateStoreFull, StateLocationInvalid, EngineFeedInvalid, EngineListRefused,
            EngineVersionRefused, AgentSocketInvalid, AgentSocketUnsafe, AgentSocketInUse, AgentListenFailed, AgentUnsupported, AgentNeedsEngine,
        };

        /// <summary>Every id above, for the documentation table and its test.</summary>
        public static IReadOnlyList<string> All { get; } = typeof(ErrorIds).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string)).Select(f => (string)f.GetRawConstantValue()).ToList();

        /// <summary>
        /// True for failures that doom every input of a command (the engine, the state file, a bad range
        /// parameter); false for failures tied to one input, which are reported and the pipeline goes on.
        /// </summary>
        public static bool IsTerminating(string errorId) => Terminating.Contains(errorId);
    }
}
