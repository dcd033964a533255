using Microsoft.AspNetCore.Http;
using Mmcp.Client;
using ModelContextProtocol;

namespace Mmcp.Gateway.Errors;

/// <summary>
/// The one place hub failures become wire errors: a JSON-RPC error (code, message naming the server, and
/// <c>data.server</c> / <c>data.hubCode</c>) on the MCP endpoints, and an HTTP status with a JSON body on REST.
/// </summary>
internal static class GatewayErrors
{
    /// <summary>The error code of a call refused by the consent store (an application error in the JSON-RPC server range).</summary>
    public const int ConsentRefusedCode = -32010;

    public static McpProtocolException ToMcp(HubException ex)
    {
        // A JSON-RPC error the server itself returned keeps the server's code.
        var code = ex.InnerException is McpProtocolException upstream && ex.Code is HubErrorCode.ServerError or HubErrorCode.InvalidArguments or HubErrorCode.NotFound
            ? upstream.ErrorCode
            : ex.Code switch
            {
                HubErrorCode.UnknownServer or HubErrorCode.UnknownTool or HubErrorCode.InvalidArguments => McpErrorCode.InvalidParams,
                HubErrorCode.NotFound => McpErrorCode.ResourceNotFound,
                _ => McpErrorCode.InternalError,
            };
        var result = new McpProtocolException(ex.Message, ex, code);
        if (ex.ServerId is { } server)
        {
            result.Data["server"] = server;
        }

        result.Data["hubCode"] = ex.Code.ToString();
        return result;
    }

    public static McpProtocolException ConsentRefused(string message, string serverId)
    {
        var result = new McpProtocolException(message, (McpErrorCode)ConsentRefusedCode);
        result.Data["server"] = serverId;
        result.Data["hubCode"] = "ConsentRequired";
        return result;
    }

    public static int ToHttpStatus(HubErrorCode code) => code switch
    {
        HubErrorCode.UnknownServer or HubErrorCode.UnknownTool or HubErrorCode.NotFound => StatusCodes.Status404NotFound,
        HubErrorCode.InvalidArguments => StatusCodes.Status400BadRequest,
        HubErrorCode.HandshakeTimeout or HubErrorCode.CallTimeout => StatusCodes.Status504GatewayTimeout,
        HubErrorCode.ConfigurationError => StatusCodes.Status500InternalServerError,
        _ => StatusCodes.Status502BadGateway,
    };
}
