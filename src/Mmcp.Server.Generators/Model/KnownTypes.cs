using Microsoft.CodeAnalysis;

namespace Mmcp.Server.Generators.Model;

/// <summary>The framework and SDK types the generator recognises, resolved once per compilation.</summary>
internal sealed class KnownTypes
{
    public KnownTypes(Compilation compilation)
    {
        Compilation = compilation;
        McpServerAttribute = Get("Mmcp.Server.McpServerAttribute");
        ToolAttribute = Get("ModelContextProtocol.Server.McpServerToolAttribute");
        ResourceAttribute = Get("ModelContextProtocol.Server.McpServerResourceAttribute");
        PromptAttribute = Get("ModelContextProtocol.Server.McpServerPromptAttribute");
        McpMetaAttribute = Get("ModelContextProtocol.Server.McpMetaAttribute");
        DescriptionAttribute = Get("System.ComponentModel.DescriptionAttribute");
        FromServicesAttribute = Get("Mmcp.Server.FromServicesAttribute");
        AspNetFromServicesAttribute = Get("Microsoft.AspNetCore.Mvc.FromServicesAttribute");
        FromKeyedServicesAttribute = Get("Microsoft.Extensions.DependencyInjection.FromKeyedServicesAttribute");
        ActivatorUtilitiesConstructorAttribute = Get("Microsoft.Extensions.DependencyInjection.ActivatorUtilitiesConstructorAttribute");
        JsonPropertyNameAttribute = Get("System.Text.Json.Serialization.JsonPropertyNameAttribute");
        JsonIgnoreAttribute = Get("System.Text.Json.Serialization.JsonIgnoreAttribute");
        JsonConstructorAttribute = Get("System.Text.Json.Serialization.JsonConstructorAttribute");
        JsonStringEnumMemberNameAttribute = Get("System.Text.Json.Serialization.JsonStringEnumMemberNameAttribute");

        CancellationToken = Get("System.Threading.CancellationToken");
        McpServer = Get("ModelContextProtocol.Server.McpServer");
        RequestContext = Get("ModelContextProtocol.Server.RequestContext`1");
        Progress = Get("System.IProgress`1");
        ProgressNotificationValue = Get("ModelContextProtocol.ProgressNotificationValue");
        ServiceProvider = Get("System.IServiceProvider");
        ClaimsPrincipal = Get("System.Security.Claims.ClaimsPrincipal");
        CallToolRequestParams = Get("ModelContextProtocol.Protocol.CallToolRequestParams");
        ReadResourceRequestParams = Get("ModelContextProtocol.Protocol.ReadResourceRequestParams");
        GetPromptRequestParams = Get("ModelContextProtocol.Protocol.GetPromptRequestParams");

        Task = Get("System.Threading.Tasks.Task");
        TaskOfT = Get("System.Threading.Tasks.Task`1");
        ValueTask = Get("System.Threading.Tasks.ValueTask");
        ValueTaskOfT = Get("System.Threading.Tasks.ValueTask`1");
        AsyncEnumerable = Get("System.Collections.Generic.IAsyncEnumerable`1");

        ContentBlock = Get("ModelContextProtocol.Protocol.ContentBlock");
        CallToolResult = Get("ModelContextProtocol.Protocol.CallToolResult");
        ResourceContents = Get("ModelContextProtocol.Protocol.ResourceContents");
        ReadResourceResult = Get("ModelContextProtocol.Protocol.ReadResourceResult");
        PromptMessage = Get("ModelContextProtocol.Protocol.PromptMessage");
        GetPromptResult = Get("ModelContextProtocol.Protocol.GetPromptResult");
        AIContent = Get("Microsoft.Extensions.AI.AIContent");
        ChatMessage = Get("Microsoft.Extensions.AI.ChatMessage");

        IEnumerable = Get("System.Collections.Generic.IEnumerable`1");
        List = Get("System.Collections.Generic.List`1");
        IList = Get("System.Collections.Generic.IList`1");
        ICollection = Get("System.Collections.Generic.ICollection`1");
        IReadOnlyList = Get("System.Collections.Generic.IReadOnlyList`1");
        IReadOnlyCollection = Get("System.Collections.Generic.IReadOnlyCollection`1");
        HashSet = Get("System.Collections.Generic.HashSet`1");
        ISet = Get("System.Collections.Generic.ISet`1");
        IReadOnlySet = Get("System.Collections.Generic.IReadOnlySet`1");
        Dictionary = Get("System.Collections.Generic.Dictionary`2");
        IDictionary = Get("System.Collections.Generic.IDictionary`2");
        IReadOnlyDictionary = Get("System.Collections.Generic.IReadOnlyDictionary`2");

        Guid = Get("System.Guid");
        DateTimeOffset = Get("System.DateTimeOffset");
        TimeSpan = Get("System.TimeSpan");
        DateOnly = Get("System.DateOnly");
        TimeOnly = Get("System.TimeOnly");
        Uri = Get("System.Uri");
        JsonElement = Get("System.Text.Json.JsonElement");
        JsonNode = Get("System.Text.Json.Nodes.JsonNode");
    }

    public Compilation Compilation { get; }

    public INamedTypeSymbol? McpServerAttribute { get; }

    public INamedTypeSymbol? ToolAttribute { get; }

    public INamedTypeSymbol? ResourceAttribute { get; }

    public INamedTypeSymbol? PromptAttribute { get; }

    public INamedTypeSymbol? McpMetaAttribute { get; }

    public INamedTypeSymbol? DescriptionAttribute { get; }

    public INamedTypeSymbol? FromServicesAttribute { get; }

    public INamedTypeSymbol? AspNetFromServicesAttribute { get; }

    public INamedTypeSymbol? FromKeyedServicesAttribute { get; }

    public INamedTypeSymbol? ActivatorUtilitiesConstructorAttribute { get; }

    public INamedTypeSymbol? JsonPropertyNameAttribute { get; }

    public INamedTypeSymbol? JsonIgnoreAttribute { get; }

    public INamedTypeSymbol? JsonConstructorAttribute { get; }

    public INamedTypeSymbol? JsonStringEnumMemberNameAttribute { get; }

    public INamedTypeSymbol? CancellationToken { get; }

    public INamedTypeSymbol? McpServer { get; }

    public INamedTypeSymbol? RequestContext { get; }

    public INamedTypeSymbol? Progress { get; }

    public INamedTypeSymbol? ProgressNotificationValue { get; }

    public INamedTypeSymbol? ServiceProvider { get; }

    public INamedTypeSymbol? ClaimsPrincipal { get; }

    public INamedTypeSymbol? CallToolRequestParams { get; }

    public INamedTypeSymbol? ReadResourceRequestParams { get; }

    public INamedTypeSymbol? GetPromptRequestParams { get; }

    public INamedTypeSymbol? Task { get; }

    public INamedTypeSymbol? TaskOfT { get; }

    public INamedTypeSymbol? ValueTask { get; }

    public INamedTypeSymbol? ValueTaskOfT { get; }

    public INamedTypeSymbol? AsyncEnumerable { get; }

    public INamedTypeSymbol? ContentBlock { get; }

    public INamedTypeSymbol? CallToolResult { get; }

    public INamedTypeSymbol? ResourceContents { get; }

    public INamedTypeSymbol? ReadResourceResult { get; }

    public INamedTypeSymbol? PromptMessage { get; }

    public INamedTypeSymbol? GetPromptResult { get; }

    public INamedTypeSymbol? AIContent { get; }

    public INamedTypeSymbol? ChatMessage { get; }

    public INamedTypeSymbol? IEnumerable { get; }

    public INamedTypeSymbol? List { get; }

    public INamedTypeSymbol? IList { get; }

    public INamedTypeSymbol? ICollection { get; }

    public INamedTypeSymbol? IReadOnlyList { get; }

    public INamedTypeSymbol? IReadOnlyCollection { get; }

    public INamedTypeSymbol? HashSet { get; }

    public INamedTypeSymbol? ISet { get; }

    public INamedTypeSymbol? IReadOnlySet { get; }

    public INamedTypeSymbol? Dictionary { get; }

    public INamedTypeSymbol? IDictionary { get; }

    public INamedTypeSymbol? IReadOnlyDictionary { get; }

    public INamedTypeSymbol? Guid { get; }

    public INamedTypeSymbol? DateTimeOffset { get; }

    public INamedTypeSymbol? TimeSpan { get; }

    public INamedTypeSymbol? DateOnly { get; }

    public INamedTypeSymbol? TimeOnly { get; }

    public INamedTypeSymbol? Uri { get; }

    public INamedTypeSymbol? JsonElement { get; }

    public INamedTypeSymbol? JsonNode { get; }

    public static bool Is(ITypeSymbol? type, INamedTypeSymbol? known) =>
        known is not null && type is not null && SymbolEqualityComparer.Default.Equals(type.OriginalDefinition, known);

    public static bool DerivesFrom(ITypeSymbol? type, INamedTypeSymbol? known)
    {
        for (var t = type; t is not null; t = t.BaseType)
        {
            if (Is(t, known))
            {
                return true;
            }
        }

        return false;
    }

    public static AttributeData? FindAttribute(ISymbol symbol, INamedTypeSymbol? attribute)
    {
        if (attribute is null)
        {
            return null;
        }

        foreach (var data in symbol.GetAttributes())
        {
            if (SymbolEqualityComparer.Default.Equals(data.AttributeClass, attribute))
            {
                return data;
            }
        }

        return null;
    }

    /// <summary>Returns which primitive a method implements, from the SDK attribute on it.</summary>
    public PrimitiveKindOfMethod? PrimitiveKindOf(IMethodSymbol method, out AttributeData? attribute)
    {
        if ((attribute = FindAttribute(method, ToolAttribute)) is not null)
        {
            return PrimitiveKindOfMethod.Tool;
        }

        if ((attribute = FindAttribute(method, ResourceAttribute)) is not null)
        {
            return PrimitiveKindOfMethod.Resource;
        }

        if ((attribute = FindAttribute(method, PromptAttribute)) is not null)
        {
            return PrimitiveKindOfMethod.Prompt;
        }

        return null;
    }

    public string? DescriptionOf(ISymbol symbol) =>
        FindAttribute(symbol, DescriptionAttribute) is { } data && data.ConstructorArguments.Length == 1 && data.ConstructorArguments[0].Value is string text ? text : null;

    private INamedTypeSymbol? Get(string metadataName) => Compilation.GetTypeByMetadataName(metadataName);
}
