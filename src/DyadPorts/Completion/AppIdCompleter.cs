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
                .Select(id => new CompletionResult(AsArgument(id), id, CompletionResultType.ParameterValue, $"app {id}"))
                .ToList(); // made here, inside the completer: nothing is left to throw while PowerShell enumerates
        }

        /// <summary>An id as the command line takes it: quoted when it is not a plain AppId (a state written by another tool).</summary>
        private static string AsArgument(string id) =>
            Core.Allocation.AppIds.Problem(id) == null ? id : "'" + CodeGeneration.EscapeSingleQuotedStringContent(id) + "'";

        internal static IEnumerable<string> KnownAppIds(DyadSession session)
        {
            var ids = new HashSet<string>(StringComparer.Ordinal);
            var budget = CompletionSources.StartBudget();
            foreach (var allocation in CompletionSources.Allocations(session, budget)) ids.Add(allocation.AppId);
            foreach (var container in CompletionSources.Containers(session, budget)) ids.Add(container.SuggestedAppId);
            // An empty id (a state key "", a container named just dyad-app-) completes to nothing: PowerShell refuses an empty completion.
            ids.RemoveWhere(string.IsNullOrEmpty);
            return ids;
        }
    }
}
