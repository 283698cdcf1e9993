using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using DyadPorts.Core.Session;
using DyadPorts.Infrastructure;

namespace DyadPorts.Completion
{
    /// <summary>Completes AppIds from the allocations and from dyad-app-* / labelled containers.</summary>
    public sealed class AppIdCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var prefix = (wordToComplete ?? string.Empty).Trim('\'', '"');
            return KnownAppIds(ModuleSession.Current)
                .Where(id => id.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                .OrderBy(id => id, StringComparer.OrdinalIgnoreCase)
                .Select(id => new CompletionResult(id, id, CompletionResultType.ParameterValue, $"app {id}"));
        }

        internal static IEnumerable<string> KnownAppIds(DyadSession session)
        {
            var ids = new HashSet<string>(StringComparer.Ordinal);
            var budget = CompletionSources.StartBudget();
            foreach (var allocation in CompletionSources.Allocations(session, budget)) ids.Add(allocation.AppId);
            foreach (var container in CompletionSources.Containers(session, budget))
            {
                if (container.SuggestedAppId != null) ids.Add(container.SuggestedAppId);
            }
            return ids;
        }
    }
}
