using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Management.Automation;
using System.Threading;
using DyadPorts.Core.Diagnostics;
using DyadPorts.Core.Session;

namespace DyadPorts.Infrastructure
{
    /// <summary>
    /// Base of every DyadPorts cmdlet: resolves the module's session, cancels engine calls on Ctrl+C,
    /// forwards the core's decisions to the verbose, warning and progress streams, and turns core
    /// failures into ErrorRecords with their own id, category and target.
    /// </summary>
    public abstract partial class DyadPortsCmdlet : PSCmdlet, IOperationLog
    {
        private readonly CancellationTokenSource _cancellation = new CancellationTokenSource();

        private DyadSettings _settings;

        /// <summary>
        /// The process's first command starts the state's serializer compiling on another core (<see cref="ColdStart"/>)
        /// before PowerShell binds its parameters; later commands find it begun.
        /// </summary>
        protected DyadPortsCmdlet() => ColdStart.Begin();

        protected static DyadSession Session => ModuleSession.Current;

        /// <summary>This command's settings, resolved once from the session's environment on first use.</summary>
        protected DyadSettings Settings => _settings ??= Session.Settings(writesNothing: WhatIfRequested);

        /// <summary>-WhatIf given, or $WhatIfPreference set, on a cmdlet that supports it: the command only looks.</summary>
        protected bool WhatIfRequested =>
            SupportsShouldProcess.GetOrAdd(GetType(), DeclaresShouldProcess) &&
            (MyInvocation.BoundParameters.TryGetValue("WhatIf", out var whatIf)
                ? ((SwitchParameter)whatIf).IsPresent
                : LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference")));
        protected CancellationToken CancellationToken => _cancellation.Token;

        /// <summary>
        /// Whether each cmdlet type declares SupportsShouldProcess, read once per type: reading a custom attribute builds it
        /// through reflection, whose invoke stubs the runtime emits and jits again each time a collection took the type's
        /// reflection cache (weakly held), which a warm session's every command paid for.
        /// </summary>
        private static readonly ConcurrentDictionary<Type, bool> SupportsShouldProcess = new ConcurrentDictionary<Type, bool>();

        private static bool DeclaresShouldProcess(Type type) =>
            type.GetCustomAttributes(typeof(CmdletAttribute), false) is CmdletAttribute[] { Length: > 0 } cmdlet && cmdlet[0].SupportsShouldProcess;

        protected override void StopProcessing() => CancelUnlessDisposed();

        protected sealed override void BeginProcessing() => Run(Begin);
        protected sealed override void ProcessRecord() => Run(Process);
        protected sealed override void EndProcessing() => Run(End);

        protected virtual void Begin() { }
        protected virtual void Process() { }
        protected virtual void End() { }

        private void Run(Action step)
        {
            try
            {
                step();
            }
            catch (DyadPortsException e)
            {
                Report(e);
            }
            catch (OperationCanceledException) when (_cancellation.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }
            catch (Exception e) when (!(e is RuntimeException))
            {
                // The last resort: nothing raw leaves a DyadPorts cmdlet, a cancellation the user did not ask for (a bound
                // inside the module that ran out) included. Each foreseen failure has its own id in the core; reaching this
                // is a bug, reported with its id and the original exception inside.
                ThrowTerminatingError(new ErrorRecord(
                    new DyadPortsException(ErrorIds.UnexpectedFailure, FailureCategory.InvalidOperation, null,
                        $"DyadPorts failed unexpectedly ({e.GetType().Name}: {e.Message}). Nothing after this point was done. Please report it with this message.", e),
                    ErrorIds.UnexpectedFailure, ErrorCategory.NotSpecified, null));
            }
        }

        /// <summary>
        /// A failure tied to one input is written as a non-terminating error and the pipeline goes on with the
        /// next input; a failure that dooms every input (the engine, the state file, a bad range) stops the command.
        /// -ErrorAction Stop still stops at the first error of either kind.
        /// </summary>
        protected void Report(DyadPortsException e)
        {
            if (!e.IsTerminating)
            {
                WriteError(e);
                return;
            }
            ForgetIfUnreachable(e);
            ThrowTerminatingError(ToErrorRecord(e));
        }

        /// <summary>An engine that did not answer: the session's clients of it reconnect, and its resolutions probe again, next time.</summary>
        private static void ForgetIfUnreachable(DyadPortsException e)
        {
            if (e.ErrorId == ErrorIds.EngineUnreachable) Session.Forget(e.Target as string);
        }

        /// <summary>Runs <paramref name="action"/> for each input; one input's failure is reported and the others go on.</summary>
        protected void ForEachInput<T>(IEnumerable<T> inputs, Action<T> action)
        {
            foreach (var input in inputs)
            {
                try
                {
                    action(input);
                }
                catch (DyadPortsException e) when (!e.IsTerminating)
                {
                    Report(e);
                }
            }
        }

        /// <summary>
        /// Reports a failure for one input, non-terminating, and goes on with the next; an engine that did not answer is
        /// forgotten first, as <see cref="Report"/> does (another host's, in a listing).
        /// </summary>
        protected void WriteError(DyadPortsException e)
        {
            ForgetIfUnreachable(e);
            WriteError(ToErrorRecord(e));
        }

        /// <summary>
        /// A file-system path against PowerShell's current location (a relative path, ~, a PowerShell drive). A path that
        /// names none (a drive that does not exist, another provider's item) is <paramref name="notAPath"/>'s error, with
        /// its own id and target, never PowerShell's own exception.
        /// </summary>
        protected string FileSystemPath(string path, Func<Exception, DyadPortsException> notAPath)
        {
            string resolved;
            ProviderInfo provider;
            try
            {
                resolved = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out provider, out _);
            }
            catch (Exception e) when (e is RuntimeException || e is NotSupportedException || e is ArgumentException)
            {
                throw notAPath(e);
            }
            // Env:, Variable:, HKLM: ... give a provider path that is no file's: .NET would take it relative to the
            // process's folder, not PowerShell's location.
            if (provider.ImplementingType != typeof(Microsoft.PowerShell.Commands.FileSystemProvider))
            {
                throw notAPath(new ArgumentException($"'{path}' is an item of the {provider.Name} provider, not a file-system path."));
            }
            return resolved;
        }

        protected static ErrorRecord ToErrorRecord(DyadPortsException e)
        {
            var category = Enum.Parse<ErrorCategory>(e.Category.ToString());
            return new ErrorRecord(e, e.ErrorId, category, e.Target);
        }

        bool IOperationLog.VerboseEnabled
        {
            get
            {
                if (MyInvocation.BoundParameters.TryGetValue("Verbose", out var bound)) return ((SwitchParameter)bound).IsPresent;
                return GetVariableValue("VerbosePreference") is ActionPreference preference && preference != ActionPreference.SilentlyContinue;
            }
        }

        void IOperationLog.Verbose(string message) => Say(() => WriteVerbose(message));
        void IOperationLog.Warning(string message) => Say(() => WriteWarning(message));

        void IOperationLog.Progress(string activity, string status, int percent)
        {
            var record = new ProgressRecord(Math.Abs(GetType().Name.GetHashCode() % 10000), activity, status ?? "Done");
            if (status == null) record.RecordType = ProgressRecordType.Completed;
            else record.PercentComplete = Math.Max(-1, Math.Min(100, percent));
            Say(() => WriteProgress(record));
        }

        /// <summary>
        /// Ctrl+C makes PowerShell's writers throw <see cref="PipelineStoppedException"/>. A log line must not replace the
        /// core's own cancellation, nor cut short the cleanup it runs on the way out: while the command stops, its log is quiet.
        /// </summary>
        private void Say(Action write)
        {
            if (Stopping) return;
            try
            {
                write();
            }
            catch (PipelineStoppedException)
            {
                // stopped between the check and the write
            }
        }

        protected IOperationLog Log => this;

    }
}
