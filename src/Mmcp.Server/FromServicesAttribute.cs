namespace Mmcp.Server;

/// <summary>
/// Marks a tool, resource or prompt parameter whose value comes from dependency injection instead of the caller's
/// arguments. Needed only for concrete classes: interfaces and abstract classes are always resolved from the services,
/// as are <c>CancellationToken</c>, <c>McpServer</c>, <c>RequestContext&lt;T&gt;</c>, <c>IProgress&lt;ProgressNotificationValue&gt;</c>,
/// <c>IServiceProvider</c>, <c>ClaimsPrincipal</c> and parameters marked <c>[FromKeyedServices]</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
public sealed class FromServicesAttribute : Attribute
{
}
