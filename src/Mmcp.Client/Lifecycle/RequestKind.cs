namespace Mmcp.Client.Lifecycle;

/// <summary>What a request does, which decides whether it may be retried and how a server's errors are read.</summary>
internal enum RequestKind
{
    /// <summary><c>tools/list</c>, <c>resources/list</c>, <c>prompts/list</c>: idempotent.</summary>
    List,

    /// <summary><c>tools/call</c>: never retried.</summary>
    CallTool,

    /// <summary><c>resources/read</c>: idempotent.</summary>
    ReadResource,

    /// <summary><c>prompts/get</c>: idempotent.</summary>
    GetPrompt,
}
