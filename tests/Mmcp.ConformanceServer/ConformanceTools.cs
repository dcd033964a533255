using System.ComponentModel;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using static ModelContextProtocol.Protocol.ElicitRequestParams;

namespace Mmcp.ConformanceServer;

/// <summary>The tools the conformance scenarios call, with exactly the behaviour each scenario describes.</summary>
[McpServerToolType]
internal sealed class ConformanceTools
{
    [McpServerTool(Name = "test_simple_text"), Description("Returns a simple text response.")]
    public static string SimpleText() => "This is a simple text response for testing.";

    [McpServerTool(Name = "test_image_content"), Description("Returns a 1x1 red PNG image.")]
    public static ContentBlock ImageContent() => ImageContentBlock.FromBytes(TestMedia.RedPixelPng, "image/png");

    [McpServerTool(Name = "test_audio_content"), Description("Returns a short silent WAV clip.")]
    public static ContentBlock AudioContent() => AudioContentBlock.FromBytes(TestMedia.SilentWav, "audio/wav");

    [McpServerTool(Name = "test_embedded_resource"), Description("Returns an embedded text resource.")]
    public static ContentBlock EmbeddedResource() => new EmbeddedResourceBlock
    {
        Resource = new TextResourceContents { Uri = "test://embedded-resource", MimeType = "text/plain", Text = "This is an embedded resource content." },
    };

    [McpServerTool(Name = "test_multiple_content_types"), Description("Returns text, image and resource content together.")]
    public static IEnumerable<ContentBlock> MultipleContentTypes() =>
    [
        new TextContentBlock { Text = "Multiple content types test:" },
        ImageContentBlock.FromBytes(TestMedia.RedPixelPng, "image/png"),
        new EmbeddedResourceBlock { Resource = new TextResourceContents { Uri = "test://mixed-content-resource", MimeType = "application/json", Text = "{\"test\":\"data\",\"value\":123}" } },
    ];

    [McpServerTool(Name = "test_tool_with_logging"), Description("Sends three log messages while it runs.")]
    public static async Task<string> ToolWithLogging(McpServer server, CancellationToken cancellationToken)
    {
        await Log(server, "Tool execution started", cancellationToken);
        await Task.Delay(50, cancellationToken);
        await Log(server, "Tool processing data", cancellationToken);
        await Task.Delay(50, cancellationToken);
        await Log(server, "Tool execution completed", cancellationToken);
        return "Tool with logging executed successfully";
    }

    [McpServerTool(Name = "test_tool_with_progress"), Description("Reports progress 0, 50 and 100 of 100.")]
    public static async Task<string> ToolWithProgress(RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken)
    {
        var token = context.Params?.ProgressToken;
        foreach (var step in new[] { 0, 50, 100 })
        {
            if (token is { } t)
            {
                await context.Server.NotifyProgressAsync(t, new ProgressNotificationValue { Progress = step, Total = 100, Message = $"step {step}" }, cancellationToken: cancellationToken);
            }

            if (step < 100)
            {
                await Task.Delay(50, cancellationToken);
            }
        }

        return "Tool with progress executed successfully";
    }

    [McpServerTool(Name = "test_error_handling"), Description("Always fails, to test error reporting.")]
    public static CallToolResult ErrorHandling() => new()
    {
        IsError = true,
        Content = [new TextContentBlock { Text = "This tool intentionally returns an error for testing" }],
    };

    [McpServerTool(Name = "test_sampling"), Description("Asks the client's LLM to answer a prompt (sampling).")]
    public static async Task<string> Sampling(McpServer server, [Description("The prompt to send to the LLM")] string prompt, CancellationToken cancellationToken)
    {
        if (server.ClientCapabilities?.Sampling is null)
        {
            throw new McpException("The client does not support sampling.");
        }

        var result = await server.SampleAsync(
            new CreateMessageRequestParams
            {
                Messages = [new SamplingMessage { Role = Role.User, Content = [new TextContentBlock { Text = prompt }] }],
                MaxTokens = 100,
            },
            cancellationToken);
        var text = string.Concat(result.Content.OfType<TextContentBlock>().Select(c => c.Text));
        return $"LLM response: {text}";
    }

    [McpServerTool(Name = "test_elicitation"), Description("Asks the user for a username and email (elicitation).")]
    public static async Task<string> Elicitation(McpServer server, [Description("The message to show the user")] string message, CancellationToken cancellationToken)
    {
        var result = await Elicit(server, message, new RequestSchema
        {
            Properties = new Dictionary<string, PrimitiveSchemaDefinition>
            {
                ["username"] = new StringSchema { Description = "User's response" },
                ["email"] = new StringSchema { Description = "User's email address" },
            },
            Required = ["username", "email"],
        }, cancellationToken);
        return $"User response: action={result.Action}, content={Describe(result)}";
    }

    [McpServerTool(Name = "test_elicitation_sep1034_defaults"), Description("Elicitation with default values for every primitive type (SEP-1034).")]
    public static async Task<string> ElicitationDefaults(McpServer server, CancellationToken cancellationToken)
    {
        var result = await Elicit(server, "Please review and update the form fields with defaults", new RequestSchema
        {
            Properties = new Dictionary<string, PrimitiveSchemaDefinition>
            {
                ["name"] = new StringSchema { Description = "User name", Default = "John Doe" },
                ["age"] = new NumberSchema { Type = "integer", Description = "User age", Default = 30 },
                ["score"] = new NumberSchema { Description = "User score", Default = 95.5 },
                ["status"] = new UntitledSingleSelectEnumSchema { Description = "User status", Enum = ["active", "inactive", "pending"], Default = "active" },
                ["verified"] = new BooleanSchema { Description = "Verification status", Default = true },
            },
        }, cancellationToken);
        return $"Elicitation completed: action={result.Action}, content={Describe(result)}";
    }

    [McpServerTool(Name = "test_elicitation_sep1330_enums"), Description("Elicitation with all five enum variants (SEP-1330).")]
    public static async Task<string> ElicitationEnums(McpServer server, CancellationToken cancellationToken)
    {
#pragma warning disable MCP9001 // the legacy titled enum is one of the variants under test
        var legacy = new LegacyTitledEnumSchema { Description = "Legacy titled enum", Enum = ["opt1", "opt2", "opt3"], EnumNames = ["Option One", "Option Two", "Option Three"] };
#pragma warning restore MCP9001
        var result = await Elicit(server, "Please select options from the enum fields", new RequestSchema
        {
            Properties = new Dictionary<string, PrimitiveSchemaDefinition>
            {
                ["untitledSingle"] = new UntitledSingleSelectEnumSchema { Description = "Untitled single-select", Enum = ["option1", "option2", "option3"] },
                ["titledSingle"] = new TitledSingleSelectEnumSchema
                {
                    Description = "Titled single-select",
                    OneOf = [new EnumSchemaOption { Const = "value1", Title = "First Option" }, new EnumSchemaOption { Const = "value2", Title = "Second Option" }, new EnumSchemaOption { Const = "value3", Title = "Third Option" }],
                },
                ["legacyEnum"] = legacy,
                ["untitledMulti"] = new UntitledMultiSelectEnumSchema { Description = "Untitled multi-select", Items = new UntitledEnumItemsSchema { Type = "string", Enum = ["option1", "option2", "option3"] } },
                ["titledMulti"] = new TitledMultiSelectEnumSchema
                {
                    Description = "Titled multi-select",
                    Items = new TitledEnumItemsSchema { AnyOf = [new EnumSchemaOption { Const = "value1", Title = "First Choice" }, new EnumSchemaOption { Const = "value2", Title = "Second Choice" }, new EnumSchemaOption { Const = "value3", Title = "Third Choice" }] },
                },
            },
        }, cancellationToken);
        return $"Elicitation completed: action={result.Action}, content={Describe(result)}";
    }

    private static async Task<ElicitResult> Elicit(McpServer server, string message, RequestSchema schema, CancellationToken cancellationToken)
    {
        if (server.ClientCapabilities?.Elicitation is null)
        {
            throw new McpException("The client does not support elicitation.");
        }

        return await server.ElicitAsync(new ElicitRequestParams { Message = message, RequestedSchema = schema }, cancellationToken);
    }

    private static string Describe(ElicitResult result) =>
        result.Content is null ? "{}" : JsonSerializer.Serialize(result.Content, McpJsonUtilities.DefaultOptions);

    private static Task Log(McpServer server, string message, CancellationToken cancellationToken) =>
        server.SendNotificationAsync(
            NotificationMethods.LoggingMessageNotification,
            new LoggingMessageNotificationParams { Level = LoggingLevel.Info, Logger = "conformance", Data = JsonSerializer.SerializeToElement(message, McpJsonUtilities.DefaultOptions) },
            cancellationToken: cancellationToken);
}
