using Microsoft.CodeAnalysis;

namespace Mmcp.Server.Generators.Diagnostics;

/// <summary>
/// Every diagnostic the Mmcp analyzers report. Ids are stable (MMCP1xxx) and each is documented in
/// docs/mmcp-diagnostics.md; never reuse or renumber one.
/// </summary>
internal static class MmcpDiagnostics
{
    private const string Category = "Mmcp";

    public static readonly DiagnosticDescriptor InvalidServerId = Create(
        "MMCP1001",
        "Invalid Mmcp server id",
        "{0}",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor ServerClassNotPartial = Create(
        "MMCP1002",
        "Mmcp server class must be partial",
        "'{0}' has [McpServer] and must be declared partial{1} so that the generator can add its registration code",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor PrimitiveOutsideServer = Create(
        "MMCP1003",
        "MCP method in a class without [McpServer]",
        "'{0}' is marked [{1}] but '{2}' has no [McpServer] attribute, so the Mmcp generator does not register it; add [McpServer(...)] to the class, or register the class yourself with the SDK's reflection-based With{3}<{2}>()",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor DuplicateName = Create(
        "MMCP1004",
        "Duplicate MCP name",
        "The {0} '{1}' is defined by both '{2}' and '{3}'; {4}",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor InvalidToolName = Create(
        "MMCP1005",
        "Invalid MCP tool name",
        "The tool name '{0}' is invalid: {1}; MCP tool names are 1 to 128 characters of letters, digits, '_', '-' and '.'",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor AggregatedNameTooLong = Create(
        "MMCP1006",
        "Tool name too long for hubs",
        "Hubs expose the tool '{0}' as '{1}' ({2} characters), longer than the 64 characters LLM function names allow, so it will be shortened to '{3}'; use a tool name of at most {4} characters or a shorter server id",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor UnsupportedParameterType = Create(
        "MMCP1007",
        "Unsupported parameter type",
        "Parameter '{0}' of '{1}' has type '{2}', which {3}",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor MissingDescription = Create(
        "MMCP1008",
        "MCP method without a description",
        "The {0} '{1}' has no description; LLMs choose {0}s by their descriptions: add a /// <summary> comment or [Description(\"...\")]",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor MissingParameterDescription = Create(
        "MMCP1009",
        "MCP argument without a description",
        "Argument '{0}' of the {1} '{2}' has no description: add <param name=\"{0}\"> to the method's XML comment or [Description(\"...\")] to the parameter",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor BlockingCall = Create(
        "MMCP1010",
        "Blocking wait in an MCP method",
        "'{0}' blocks a thread while it waits, inside the {1} '{2}'; make the method async and await instead",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor SynchronousIo = Create(
        "MMCP1011",
        "Synchronous I/O in a synchronous MCP method",
        "'{0}' does synchronous I/O inside the {1} '{2}', which returns '{3}' and so holds a thread-pool thread for the whole call; return Task or ValueTask and await '{4}'",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor UnsupportedServerClass = Create(
        "MMCP1012",
        "Unsupported Mmcp server class",
        "'{0}' cannot be an Mmcp server: {1}",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor UnsupportedReturnType = Create(
        "MMCP1013",
        "Unsupported return type",
        "The {0} '{1}' returns '{2}', which {3}",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor InvalidResourceTemplate = Create(
        "MMCP1014",
        "Invalid resource URI template",
        "The resource '{0}' has the URI template '{1}', which {2}",
        DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor UnsupportedMethod = Create(
        "MMCP1015",
        "Unsupported MCP method",
        "'{0}' cannot be an MCP {1}: {2}",
        DiagnosticSeverity.Error);

    public static DiagnosticDescriptor[] All { get; } =
    [
        InvalidServerId, ServerClassNotPartial, PrimitiveOutsideServer, DuplicateName, InvalidToolName, AggregatedNameTooLong,
        UnsupportedParameterType, MissingDescription, MissingParameterDescription, BlockingCall, SynchronousIo,
        UnsupportedServerClass, UnsupportedReturnType, InvalidResourceTemplate, UnsupportedMethod,
    ];

    private static DiagnosticDescriptor Create(string id, string title, string message, DiagnosticSeverity severity) =>
        new(id, title, message, Category, severity, isEnabledByDefault: true, description: $"See docs/mmcp-diagnostics.md, section {id}, for causes and fixes.");
}
