namespace Mmcp.Client;

/// <summary>
/// Why a hub operation failed. The numeric values are stable: the gateway and the <c>mmcp</c> CLI map them (to HTTP
/// and JSON-RPC errors, and to exit codes) in one place each, and scripts may depend on them.
/// </summary>
public enum HubErrorCode
{
    /// <summary>No discovered server has the requested id.</summary>
    UnknownServer = 1,

    /// <summary>The server has no tool with the requested name (or the aggregated name maps to no tool).</summary>
    UnknownTool = 2,

    /// <summary>
    /// The server answered a tool call or a prompt with JSON-RPC <c>-32602</c> (invalid params): usually about the
    /// arguments, but a server may answer it about its own result (structured content that does not match its output
    /// schema) or the name; the message carries the server's own words. Also a required prompt argument that is missing.
    /// </summary>
    InvalidArguments = 3,

    /// <summary>The server has no resource or prompt with the requested URI or name.</summary>
    NotFound = 4,

    /// <summary>
    /// The server's definition cannot be used as it stands: a <c>${env:NAME}</c> or <c>${input:ID}</c> reference whose
    /// variable is unset, a working directory that does not exist, a socket path that is too long.
    /// </summary>
    ConfigurationError = 5,

    /// <summary>The server could not be started: the command was not found or exited at once, or an on-demand launch did not bring its socket up within the launch budget.</summary>
    LaunchFailed = 6,

    /// <summary>The server could not be reached: its socket is not listening and it has no <c>launch</c> entry, or its URL refused the connection.</summary>
    ConnectionFailed = 7,

    /// <summary>The connection opened but the MCP handshake failed (for example an unsupported pinned protocol version).</summary>
    HandshakeFailed = 8,

    /// <summary>The MCP handshake did not finish within the handshake budget.</summary>
    HandshakeTimeout = 9,

    /// <summary>A request did not finish within the call budget. The request was cancelled on the server; the connection stays usable.</summary>
    CallTimeout = 10,

    /// <summary>The server exited or closed the connection (the failure carries the exit code and the end of its standard error, or the HTTP status). The next use restarts it.</summary>
    ServerCrashed = 11,

    /// <summary>The server answered with a JSON-RPC error other than invalid arguments or not found.</summary>
    ServerError = 12,

    /// <summary>
    /// The remote server asks for an OAuth sign-in the hub cannot do in the background: no sign-in is stored, it expired
    /// or was revoked, or a call needs a scope the sign-in lacks. The message names the <c>mmcp auth login</c> command
    /// to run (an interactive sign-in that fails also reports this code).
    /// </summary>
    SignInRequired = 13,
}
