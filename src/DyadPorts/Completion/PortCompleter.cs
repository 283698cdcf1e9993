using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using DyadPorts.Infrastructure;

namespace DyadPorts.Completion
{
    /// <summary>Completes ports from the current allocations.</summary>
    public sealed class PortCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var prefix = wordToComplete ?? string.Empty;
            return CompletionSources.Allocations(ModuleSession.Current)
                .Select(a => (a.Port, a.AppId, Text: a.Port.ToString(CultureInfo.InvariantCulture)))
                .Where(a => a.Text.StartsWith(prefix, StringComparison.Ordinal))
                .OrderBy(a => a.Port)
                .Select(a => new CompletionResult(a.Text, a.Text, CompletionResultType.ParameterValue, $"port {a.Port} of app {a.AppId}"));
        }
    }
}
