namespace DyadPorts.Core.Diagnostics
{
    /// <summary>
    /// Where the core reports its decisions. The cmdlets forward to WriteVerbose/WriteWarning/WriteProgress;
    /// calls always arrive on the thread that called into the core.
    /// </summary>
    public interface IOperationLog
    {
        /// <summary>Whether verbose messages are shown: lets the core skip building costly ones.</summary>
        bool VerboseEnabled { get; }
        void Verbose(string message);
        void Warning(string message);
        /// <param name="percent">0-100, or -1 when unknown; null status completes the activity.</param>
        void Progress(string activity, string status, int percent);
    }

    public sealed class NullOperationLog : IOperationLog
    {
        public static readonly NullOperationLog Instance = new NullOperationLog();
        public bool VerboseEnabled => false;
        public void Verbose(string message) { }
        public void Warning(string message) { }
        public void Progress(string activity, string status, int percent) { }
    }
}
