using System.ComponentModel;

namespace Mmcp.Server.Runtime;

/// <summary>Whether a JSON tool result is also returned as structured content.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public enum StructuredContentMode
{
    /// <summary>Text only (scalars and arrays of tools without structured content).</summary>
    None,

    /// <summary>The JSON object is the structured content.</summary>
    AsObject,

    /// <summary>The value is wrapped as <c>{"result": value}</c> (tools with structured content whose result is not an object).</summary>
    Wrapped,

    /// <summary>Structured content only when the value turns out to be an object (results typed as object or JSON).</summary>
    Auto,
}
