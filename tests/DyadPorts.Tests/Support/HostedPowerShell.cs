using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace DyadPorts.Tests.Support
{
    /// <summary>PowerShell hosted in the test process with the DyadPorts module imported from the build output.</summary>
    public sealed class HostedPowerShell : IDisposable
    {
        private readonly Runspace _runspace;

        public HostedPowerShell()
        {
            var state = InitialSessionState.CreateDefault2();
            state.ImportPSModule(new[] { typeof(DyadPorts.Commands.RequestDyadPortCommand).Assembly.Location });
            _runspace = RunspaceFactory.CreateRunspace(state);
            _runspace.Open();
        }

        public sealed class Result
        {
            public Collection<PSObject> Output { get; set; }
            public List<ErrorRecord> Errors { get; set; }
            public List<string> Warnings { get; set; }
            public List<string> Verbose { get; set; }
            public ErrorRecord Terminating { get; set; }
            public ErrorRecord AnyError => Terminating ?? Errors.FirstOrDefault();
        }

        public Result Run(string script, IDictionary<string, object> variables = null)
        {
            using (var ps = PowerShell.Create())
            {
                ps.Runspace = _runspace;
                if (variables != null) foreach (var v in variables) _runspace.SessionStateProxy.SetVariable(v.Key, v.Value);
                ps.AddScript(script);
                var result = new Result();
                try
                {
                    result.Output = ps.Invoke();
                }
                catch (RuntimeException e)
                {
                    result.Output = new Collection<PSObject>();
                    result.Terminating = e.ErrorRecord;
                }
                result.Errors = ps.Streams.Error.ToList();
                result.Warnings = ps.Streams.Warning.Select(w => w.Message).ToList();
                result.Verbose = ps.Streams.Verbose.Select(w => w.Message).ToList();
                return result;
            }
        }

        public void Dispose() => _runspace.Dispose();
    }
}
