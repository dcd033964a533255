using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Mmcp.Gateway.Aggregation;

namespace Mmcp.Gateway.Rest;

/// <summary>
/// <c>/openapi.json</c>: an OpenAPI 3.1 document with one operation per allowed tool (<c>POST /tools/{name}</c>, the
/// tool's input schema as the request body), which OpenAPI-tool frontends such as Open WebUI can call directly.
/// </summary>
internal sealed class OpenApiDocument(GatewayCatalog catalog)
{
    public Task WriteAsync(HttpContext context) => RestEndpoints.RunAsync(context, async ct =>
    {
        var tools = await catalog.ListAllowedAsync(ct).ConfigureAwait(false);
        var paths = new JsonObject();
        foreach (var tool in tools)
        {
            var schema = JsonNode.Parse(tool.Tool.InputSchema.GetRawText()) as JsonObject ?? new JsonObject { ["type"] = "object" };
            var operation = new JsonObject
            {
                ["operationId"] = tool.Name,
                ["summary"] = tool.Tool.Title ?? tool.Tool.Name,
                ["description"] = tool.Tool.Description ?? string.Empty,
                ["tags"] = new JsonArray(tool.ServerId),
                ["requestBody"] = new JsonObject
                {
                    ["required"] = true,
                    ["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = schema } },
                },
                ["responses"] = new JsonObject
                {
                    ["200"] = new JsonObject
                    {
                        ["description"] = "The tool's structured result, its text, or its content blocks; a tool error is {\"isError\": true, \"error\": \"…\"}.",
                        ["content"] = new JsonObject
                        {
                            ["application/json"] = new JsonObject { ["schema"] = tool.Tool.OutputSchema is { } output ? JsonNode.Parse(output.GetRawText()) : new JsonObject() },
                        },
                    },
                    ["default"] = new JsonObject { ["$ref"] = "#/components/responses/Error" },
                },
            };
            paths["/tools/" + tool.Name] = new JsonObject { ["post"] = operation };
        }

        var request = context.Request;
        return new JsonObject
        {
            ["openapi"] = "3.1.0",
            ["info"] = new JsonObject
            {
                ["title"] = "Mmcp gateway",
                ["description"] = "The tools of every MCP server on this computer, one operation each.",
                ["version"] = typeof(OpenApiDocument).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
            },
            ["servers"] = new JsonArray(new JsonObject { ["url"] = $"{request.Scheme}://{request.Host.Value}{request.PathBase}" }),
            ["paths"] = paths,
            ["components"] = new JsonObject
            {
                ["securitySchemes"] = new JsonObject { ["bearer"] = new JsonObject { ["type"] = "http", ["scheme"] = "bearer" } },
                ["responses"] = new JsonObject
                {
                    ["Error"] = new JsonObject
                    {
                        ["description"] = "The tool could not be called (unknown, refused by consent, server unavailable, timeout).",
                        ["content"] = new JsonObject
                        {
                            ["application/json"] = new JsonObject
                            {
                                ["schema"] = JsonNode.Parse("""{"type":"object","properties":{"error":{"type":"object","properties":{"code":{"type":"string"},"message":{"type":"string"},"server":{"type":"string"}},"required":["code","message"]}}}"""),
                            },
                        },
                    },
                },
            },
            ["security"] = new JsonArray(new JsonObject { ["bearer"] = new JsonArray() }, new JsonObject()),
        };
    });
}
