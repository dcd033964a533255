using Mmcp.Client;

namespace Mmcp.Cli.Application;

/// <summary>The exit codes of <c>mmcp</c>, documented in docs/mmcp-cli.md. Hub errors map to them here and nowhere else.</summary>
internal static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Ok = 0;

    /// <summary>An error not covered below (a server answered with an error, an unexpected failure).</summary>
    public const int Error = 1;

    /// <summary>The command line or the arguments given to a tool or prompt are wrong.</summary>
    public const int Usage = 2;

    /// <summary>No such server, tool, resource or prompt.</summary>
    public const int NotFound = 3;

    /// <summary>The tool ran and reported an error (<c>isError: true</c>).</summary>
    public const int ToolError = 4;

    /// <summary>A handshake or a request took longer than its budget.</summary>
    public const int Timeout = 5;

    /// <summary>A manifest (or imported configuration) is invalid.</summary>
    public const int InvalidManifest = 6;

    /// <summary>The server could not be started or reached, or crashed.</summary>
    public const int ServerUnavailable = 7;

    /// <summary>With <c>--strict</c>: a listing is incomplete because at least one server failed.</summary>
    public const int Incomplete = 8;

    /// <summary>A remote server needs the user to sign in (<c>mmcp auth login</c>), or a sign-in was refused, or a paired desktop revoked this machine (pair again).</summary>
    public const int SignInRequired = 9;

    /// <summary>Interrupted (Ctrl+C).</summary>
    public const int Interrupted = 130;

    public static int FromHubError(HubErrorCode code) => code switch
    {
        HubErrorCode.UnknownServer or HubErrorCode.UnknownTool or HubErrorCode.NotFound => NotFound,
        HubErrorCode.InvalidArguments => Usage,
        HubErrorCode.HandshakeTimeout or HubErrorCode.CallTimeout => Timeout,
        HubErrorCode.SignInRequired => SignInRequired,
        HubErrorCode.ConfigurationError or HubErrorCode.LaunchFailed or HubErrorCode.ConnectionFailed or HubErrorCode.HandshakeFailed or HubErrorCode.ServerCrashed => ServerUnavailable,
        _ => Error,
    };
}
