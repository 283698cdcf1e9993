using System;

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
    }

    /// <summary>A failure with its own error id, category and the value that caused it.</summary>
    public sealed class DyadPortsException : Exception
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
    }

    /// <summary>Every error id the module raises, in one place.</summary>
    public static class ErrorIds
    {
        public const string PortRangeExhausted = nameof(PortRangeExhausted);
        public const string InvalidPortRange = nameof(InvalidPortRange);
        public const string InvalidPort = nameof(InvalidPort);
        public const string InvalidAppId = nameof(InvalidAppId);
        public const string EngineUnreachable = nameof(EngineUnreachable);
        public const string InvalidEngineEndpoint = nameof(InvalidEngineEndpoint);
        public const string AppIdNotFound = nameof(AppIdNotFound);
        public const string StateFileCorrupt = nameof(StateFileCorrupt);
        public const string StateLockTimeout = nameof(StateLockTimeout);
        public const string StateWriteFailed = nameof(StateWriteFailed);
        public const string PortConflictRetriesExhausted = nameof(PortConflictRetriesExhausted);
        public const string PreviewExitedEarly = nameof(PreviewExitedEarly);
        public const string PreviewTimeout = nameof(PreviewTimeout);
        public const string ImageNotFound = nameof(ImageNotFound);
        public const string ContainerNameInUse = nameof(ContainerNameInUse);
        public const string ContainerStartFailed = nameof(ContainerStartFailed);
        public const string PreviewCommandFailed = nameof(PreviewCommandFailed);
        public const string PreviewCommandMissing = nameof(PreviewCommandMissing);
        public const string PreviewPathNotFound = nameof(PreviewPathNotFound);
    }
}
