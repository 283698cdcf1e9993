using System.Management.Automation;
using DyadPorts.Core.Allocation;

namespace DyadPorts.Infrastructure
{
    /// <summary>Rejects AppIds that could not name a container: empty, over 63 characters, or outside [A-Za-z0-9_.-].</summary>
    public sealed class ValidateAppIdAttribute : ValidateEnumeratedArgumentsAttribute
    {
        protected override void ValidateElement(object element)
        {
            var problem = AppIds.Problem(element as string ?? element?.ToString());
            if (problem != null) throw new ValidationMetadataException($"'{element}' is not a valid AppId: {problem}");
        }
    }
}
