using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace Mmcp.Server.Generators.Model;

/// <summary>The kind of MCP primitive a method implements.</summary>
internal enum PrimitiveKindOfMethod
{
    Tool,
    Resource,
    Prompt,
}

/// <summary>Where a method parameter's value comes from.</summary>
internal enum ParameterSource
{
    Argument,
    CancellationToken,
    Server,
    RequestContext,
    Progress,
    Services,
    User,
    Service,
    KeyedService,
}

/// <summary>How a method's result becomes an MCP result.</summary>
internal enum ResultKind
{
    Void,
    Text,
    Content,
    Contents,
    CallToolResult,
    AIContent,
    AIContents,
    Json,
    ReadResourceResult,
    ResourceContents,
    ResourceContentsList,
    Texts,
    PromptMessage,
    PromptMessages,
    GetPromptResult,
    ChatMessage,
    ChatMessages,
}

/// <summary>A class marked <c>[McpServer]</c> and everything the generator emits for it.</summary>
internal sealed class ServerModel
{
    public ServerModel(INamedTypeSymbol type) => Type = type;

    public INamedTypeSymbol Type { get; }

    public string Id { get; set; } = string.Empty;

    public string Name { get; set; } = string.Empty;

    public string Description { get; set; } = string.Empty;

    public string Version { get; set; } = string.Empty;

    public List<string> Categories { get; } = [];

    public List<string> Permissions { get; } = [];

    public List<MethodModel> Methods { get; } = [];

    /// <summary>Whether the class can receive generated members (partial, supported shape).</summary>
    public bool CanGenerate { get; set; } = true;

    /// <summary>The constructor used to create the instance for instance methods, or <see langword="null"/>.</summary>
    public IMethodSymbol? Constructor { get; set; }

    public List<ParameterModel> ConstructorParameters { get; } = [];

    public bool IsDisposable { get; set; }

    public bool IsAsyncDisposable { get; set; }
}

/// <summary>A tool, resource or prompt method.</summary>
internal sealed class MethodModel
{
    public MethodModel(IMethodSymbol method, PrimitiveKindOfMethod kind, AttributeData attribute)
    {
        Method = method;
        Kind = kind;
        Attribute = attribute;
    }

    public IMethodSymbol Method { get; }

    public PrimitiveKindOfMethod Kind { get; }

    public AttributeData Attribute { get; }

    /// <summary>Whether generation must skip this method (a diagnostic explains why).</summary>
    public bool Invalid { get; set; }

    public string Name { get; set; } = string.Empty;

    public string? Title { get; set; }

    public string? Description { get; set; }

    public List<ParameterModel> Parameters { get; } = [];

    public ReturnModel Return { get; set; } = new();

    public bool? ReadOnly { get; set; }

    public bool? Destructive { get; set; }

    public bool? Idempotent { get; set; }

    public bool? OpenWorld { get; set; }

    public bool UseStructuredContent { get; set; }

    public TypeShape? OutputSchemaShape { get; set; }

    public string? IconSource { get; set; }

    public List<KeyValuePair<string, string>> Meta { get; } = [];

    public string UriTemplate { get; set; } = string.Empty;

    public string? MimeType { get; set; }

    public bool IsTemplated { get; set; }

    public List<string> TemplateVariables { get; } = [];

    public string? UriPattern { get; set; }

    /// <summary>The generated nested class name.</summary>
    public string ClassName { get; set; } = string.Empty;

    public string KindName => Kind switch
    {
        PrimitiveKindOfMethod.Tool => "tool",
        PrimitiveKindOfMethod.Resource => "resource",
        _ => "prompt",
    };
}

/// <summary>One parameter of a tool, resource or prompt method (or of the server's constructor).</summary>
internal sealed class ParameterModel
{
    public ParameterModel(IParameterSymbol symbol, ParameterSource source)
    {
        Symbol = symbol;
        Source = source;
        Name = symbol.Name;
        TypeName = TypeShapes.NameOf(symbol.Type);
    }

    public IParameterSymbol Symbol { get; }

    public ParameterSource Source { get; }

    public string Name { get; }

    public string TypeName { get; }

    public TypeShape? Shape { get; set; }

    public bool Nullable { get; set; }

    public bool HasDefault { get; set; }

    public string? DefaultCode { get; set; }

    public string? DefaultJson { get; set; }

    public string? Description { get; set; }

    public string? ServiceKeyCode { get; set; }
}

/// <summary>What a method returns.</summary>
internal sealed class ReturnModel
{
    public bool IsAsync { get; set; }

    public ResultKind Kind { get; set; } = ResultKind.Void;

    public TypeShape? Shape { get; set; }

    public bool Nullable { get; set; }

    public ITypeSymbol? ResultType { get; set; }

    public string? Description { get; set; }
}
