using System.Text.Json;

namespace Shared.Json;

/// <summary>
/// The params of the MCP requests that name something (a tool, a resource, a prompt, a completion's reference) checked
/// for their JSON types before the SDK reads them into its types: the SDK answers a member of the wrong type (a number
/// for <c>uri</c>, an object for a prompt's <c>name</c>) with -32603 "An error occurred.", where JSON-RPC says -32602
/// Invalid params. The message names the member and what it must be. One place for every face: the gateway's front
/// (<c>/mcp</c>, <c>/servers/{id}/mcp</c>, <c>mmcp stdio</c>) and an Mmcp server's message filter.
/// </summary>
internal static class RequestParamsCheck
{
    private const string ToolsCall = "tools/call";
    private const string ResourcesRead = "resources/read";
    private const string ResourcesSubscribe = "resources/subscribe";
    private const string ResourcesUnsubscribe = "resources/unsubscribe";
    private const string PromptsGet = "prompts/get";
    private const string CompletionComplete = "completion/complete";

    /// <summary>What is wrong with a request's params, or null when they have the types the method needs (or the method is not one checked here).</summary>
    /// <param name="method">The request's method.</param>
    /// <param name="parameters">Its params (<see cref="JsonValueKind.Undefined"/> when it has none).</param>
    /// <returns>The message of the -32602 answer, or null.</returns>
    public static string? Problem(string method, JsonElement parameters) => method switch
    {
        ToolsCall => ToolsCallProblem(parameters),
        ResourcesRead or ResourcesSubscribe or ResourcesUnsubscribe => UriProblem(method, parameters),
        PromptsGet => PromptsGetProblem(parameters),
        CompletionComplete => CompletionProblem(parameters),
        _ => null,
    };

    /// <summary>Whether <see cref="Problem(string, JsonElement)"/> checks the method, a <c>tools/call</c> excepted (the gateway's front checks that on its own path, <see cref="ToolsCallProblem"/>).</summary>
    public static bool Checks(JsonElement method) =>
        method.ValueEquals(ResourcesRead) || method.ValueEquals(PromptsGet) || method.ValueEquals(CompletionComplete)
        || method.ValueEquals(ResourcesSubscribe) || method.ValueEquals(ResourcesUnsubscribe);

    /// <summary>Whether <see cref="Problem(string, JsonElement)"/> checks the method.</summary>
    public static bool Checks(string method) => method is ToolsCall or ResourcesRead or ResourcesSubscribe or ResourcesUnsubscribe or PromptsGet or CompletionComplete;

    /// <summary>What is wrong with a <c>tools/call</c>'s params: a non-empty string <c>name</c>, <c>arguments</c> an object when present.</summary>
    public static string? ToolsCallProblem(JsonElement parameters)
    {
        if (parameters.ValueKind != JsonValueKind.Object)
        {
            return "Invalid params: tools/call needs params with the tool's 'name'.";
        }

        if (!parameters.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || name.GetString() is not { Length: > 0 })
        {
            return "Invalid params: tools/call needs 'name', the tool's name as a non-empty string.";
        }

        if (parameters.TryGetProperty("arguments", out var arguments) && arguments.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
        {
            return $"Invalid params: 'arguments' must be an object of the tool's arguments, not {KindOf(arguments)}.";
        }

        return null;
    }

    private static string? UriProblem(string method, JsonElement parameters) =>
        parameters.ValueKind != JsonValueKind.Object
            ? $"Invalid params: {method} needs params with 'uri', the resource's URI as a string."
            : StringProblem(method, parameters, "uri", "the resource's URI");

    private static string? PromptsGetProblem(JsonElement parameters)
    {
        if (parameters.ValueKind != JsonValueKind.Object)
        {
            return $"Invalid params: {PromptsGet} needs params with 'name', the prompt's name as a string.";
        }

        if (StringProblem(PromptsGet, parameters, "name", "the prompt's name") is { } problem)
        {
            return problem;
        }

        return parameters.TryGetProperty("arguments", out var arguments) && arguments.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null)
            ? $"Invalid params: 'arguments' must be an object of the prompt's arguments, not {KindOf(arguments)}."
            : null;
    }

    private static string? CompletionProblem(JsonElement parameters)
    {
        const string Reference = "{\"type\":\"ref/prompt\",\"name\":\"…\"} or {\"type\":\"ref/resource\",\"uri\":\"…\"}";
        if (parameters.ValueKind != JsonValueKind.Object)
        {
            return $"Invalid params: {CompletionComplete} needs params with 'ref' ({Reference}) and 'argument' ({{\"name\":\"…\",\"value\":\"…\"}}).";
        }

        if (!parameters.TryGetProperty("ref", out var reference))
        {
            return $"Invalid params: {CompletionComplete} needs 'ref', {Reference}.";
        }

        if (reference.ValueKind != JsonValueKind.Object)
        {
            return $"Invalid params: 'ref' must be an object, {Reference}, not {KindOf(reference)}.";
        }

        if (!reference.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String
            || !(type.ValueEquals("ref/prompt") || type.ValueEquals("ref/resource")))
        {
            return $"Invalid params: 'ref.type' must be \"ref/prompt\" or \"ref/resource\" ({Reference}).";
        }

        var problem = type.ValueEquals("ref/prompt")
            ? StringProblem(CompletionComplete, reference, "name", "the prompt's name", "ref.name")
            : StringProblem(CompletionComplete, reference, "uri", "the resource template's URI", "ref.uri");
        if (problem is not null)
        {
            return problem;
        }

        if (!parameters.TryGetProperty("argument", out var argument))
        {
            return $"Invalid params: {CompletionComplete} needs 'argument', {{\"name\":\"…\",\"value\":\"…\"}}.";
        }

        if (argument.ValueKind != JsonValueKind.Object)
        {
            return $"Invalid params: 'argument' must be an object, {{\"name\":\"…\",\"value\":\"…\"}}, not {KindOf(argument)}.";
        }

        problem = StringProblem(CompletionComplete, argument, "name", "the argument's name", "argument.name")
            ?? StringProblem(CompletionComplete, argument, "value", "what the user typed so far", "argument.value");
        if (problem is not null)
        {
            return problem;
        }

        if (parameters.TryGetProperty("context", out var context) && context.ValueKind != JsonValueKind.Null)
        {
            if (context.ValueKind != JsonValueKind.Object)
            {
                return $"Invalid params: 'context' must be an object, {{\"arguments\":{{…}}}}, not {KindOf(context)}.";
            }

            if (context.TryGetProperty("arguments", out var arguments) && arguments.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
            {
                return $"Invalid params: 'context.arguments' must be an object of the arguments already given (strings), not {KindOf(arguments)}.";
            }
        }

        return null;
    }

    /// <summary>What is wrong with a required string member, or null.</summary>
    private static string? StringProblem(string method, JsonElement owner, string name, string what, string? path = null)
    {
        path ??= name;
        if (!owner.TryGetProperty(name, out var value))
        {
            return $"Invalid params: {method} needs '{path}', {what} as a string.";
        }

        return value.ValueKind == JsonValueKind.String
            ? null
            : $"Invalid params: '{path}' must be a string ({what}), not {KindOf(value)}.";
    }

    /// <summary>The JSON type of a value as a message names it.</summary>
    private static string KindOf(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
