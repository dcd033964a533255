using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Mmcp.Server.Generators.Tests.Infrastructure;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Mmcp.Server.Generators.Tests.Runtime;

/// <summary>The generated tools, resources and prompts of <see cref="SampleServer"/>, called through a real MCP client.</summary>
public sealed class GeneratedPrimitivesTests : IAsyncLifetime
{
    private InProcessServer _host = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private McpClient Client => _host.Client;

    public async ValueTask InitializeAsync()
    {
        _host = await InProcessServer.StartAsync(MmcpServerDefinition.Of<SampleServer>(), services =>
        {
            services.AddSingleton<IGreeter, Greeter>();
            services.AddSingleton<Counter>();
            services.AddKeyedSingleton("mode", "fast");
        });
    }

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task ListTools_ReturnsEveryGeneratedToolWithItsSchema()
    {
        var tools = await Client.ListToolsAsync(cancellationToken: Ct);

        Assert.Contains(tools, t => t.Name == "echo");
        var add = Assert.Single(tools, t => t.Name == "add_numbers");
        Assert.Equal("Adds two numbers.\nReturns: The sum.", add.Description);
        Assert.Equal(
            """{"type":"object","properties":{"a":{"description":"The first number.","type":"integer"},"b":{"description":"The second number.","type":"integer","default":10}},"required":["a"]}""",
            add.JsonSchema.GetRawText());
        Assert.True(Assert.Single(tools, t => t.Name == "echo").ProtocolTool.Annotations!.ReadOnlyHint);
    }

    [Fact]
    public async Task Call_StringTool_ReturnsText()
    {
        var result = await Client.CallToolAsync("echo", new Dictionary<string, object?> { ["text"] = "héllo" }, cancellationToken: Ct);

        Assert.Equal("héllo", Text(result));
        Assert.Null(result.StructuredContent);
    }

    [Fact]
    public async Task Call_DefaultsAndNumbersAsStrings_AreAccepted()
    {
        Assert.Equal("15", Text(await Client.CallToolAsync("add_numbers", new Dictionary<string, object?> { ["a"] = 5 }, cancellationToken: Ct)));
        Assert.Equal("7", Text(await Client.CallToolAsync("add_numbers", new Dictionary<string, object?> { ["a"] = "3", ["b"] = "4" }, cancellationToken: Ct)));
    }

    [Theory]
    [InlineData("""{}""", "'a' is required but was not given")]
    [InlineData("""{"a":"three"}""", "'a' must be an integer, not the string \"three\"")]
    [InlineData("""{"a":1.5}""", "'a' must be a whole number, not the number 1.5")]
    [InlineData("""{"a":3000000000}""", "'a' must be an integer from -2147483648 to 2147483647, not the number 3000000000")]
    [InlineData("""{"a":null}""", "'a' must be an integer, not null")]
    public async Task Call_InvalidArguments_IsAToolErrorNamingTheArgument(string arguments, string expected)
    {
        var result = await Client.CallToolAsync("add_numbers", Arguments(arguments), cancellationToken: Ct);

        Assert.True(result.IsError);
        Assert.Equal($"Invalid arguments for tool 'add_numbers': {expected}.", Text(result));
    }

    [Fact]
    public async Task Call_InvalidArguments_AreCounted()
    {
        var counted = new List<(long Value, string? Name)>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Mmcp.Server" && instrument.Name == "mmcp.server.arguments.invalid")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var name = tags.ToArray().FirstOrDefault(t => t.Key == "mmcp.primitive.name").Value as string;
            lock (counted)
            {
                counted.Add((value, name));
            }
        });
        listener.Start();

        await Client.CallToolAsync("add_numbers", Arguments("""{"a":"x"}"""), cancellationToken: Ct);

        lock (counted)
        {
            Assert.Contains((1L, "add_numbers"), counted);
        }
    }

    [Fact]
    public async Task Call_StructuredScalar_IsWrappedAsResult()
    {
        var result = await Client.CallToolAsync("add_structured", new Dictionary<string, object?> { ["a"] = 2, ["b"] = 3 }, cancellationToken: Ct);

        Assert.Equal("5", Text(result));
        Assert.Equal("""{"result":5}""", result.StructuredContent!.Value.GetRawText());
    }

    [Fact]
    public async Task Call_Record_BindsNestedPropertiesAndReturnsStructuredContent()
    {
        var result = await Client.CallToolAsync("move", Arguments("""{"point":{"x":1,"Y":2}}"""), cancellationToken: Ct);

        Assert.Equal("""{"x":2,"y":2}""", Text(result));
        Assert.Equal("""{"x":2,"y":2}""", result.StructuredContent!.Value.GetRawText());
    }

    [Fact]
    public async Task Call_RecordWithMissingProperty_NamesThePath()
    {
        var result = await Client.CallToolAsync("move", Arguments("""{"point":{"x":1}}"""), cancellationToken: Ct);

        Assert.True(result.IsError);
        Assert.Contains("'point.y' is required but was not given", Text(result), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_ClassWithRequiredInitAndSettableProperties_KeepsInitializerDefaults()
    {
        var full = await Client.CallToolAsync("describe_filter", Arguments("""{"filter":{"text":"x","limit":3,"tags":["a","b"],"color":"blue"}}"""), cancellationToken: Ct);
        var minimal = await Client.CallToolAsync("describe_filter", Arguments("""{"filter":{"text":"y"}}"""), cancellationToken: Ct);
        var missing = await Client.CallToolAsync("describe_filter", Arguments("""{"filter":{"limit":1}}"""), cancellationToken: Ct);

        Assert.Equal("x|3|a,b|Blue", Text(full));
        Assert.Equal("y|10||none", Text(minimal));
        Assert.Contains("'filter.text' is required", Text(missing), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_Enums_AreCaseInsensitiveNamesWithDefaults()
    {
        Assert.Equal("Blue", Text(await Client.CallToolAsync("color", Arguments("""{"color":"BLUE"}"""), cancellationToken: Ct)));
        Assert.Equal("Green", Text(await Client.CallToolAsync("color", Arguments("""{"color":null}"""), cancellationToken: Ct)));
        var wrong = await Client.CallToolAsync("color", Arguments("""{"color":"purple"}"""), cancellationToken: Ct);
        Assert.Equal("Invalid arguments for tool 'color': 'color' must be one of Red, Green, Blue, not the string \"purple\".", Text(wrong));
    }

    [Fact]
    public async Task Call_FlagsEnums_TakeAndGiveCombinationsAsSystemTextJsonDoes()
    {
        // [Flags] values are names separated by commas ("Read, Write"), as System.Text.Json's string enum converter reads and writes them.
        Assert.Equal("\"Read, Write\"", Text(await Client.CallToolAsync("grant", Arguments("""{"access":"read,WRITE"}"""), cancellationToken: Ct)));
        Assert.Equal("\"Write\"", Text(await Client.CallToolAsync("grant", Arguments("""{"access":"Write"}"""), cancellationToken: Ct)));
        Assert.Equal("\"None\"", Text(await Client.CallToolAsync("grant", Arguments("""{"access":"None"}"""), cancellationToken: Ct)));
        Assert.Equal("\"Read, Execute\"", Text(await Client.CallToolAsync("grant", Arguments("""{"access":5}"""), cancellationToken: Ct)));
        var wrong = await Client.CallToolAsync("grant", Arguments("""{"access":"Read, Delete"}"""), cancellationToken: Ct);
        Assert.Equal("Invalid arguments for tool 'grant': 'access' must be one or more of None, Read, Write, Execute separated by commas, not the string \"Read, Delete\".", Text(wrong));
        Assert.True((await Client.CallToolAsync("grant", Arguments("""{"access":8}"""), cancellationToken: Ct)).IsError);
        Assert.Equal("\"Read, Execute\"", Text(await Client.CallToolAsync("grant_default", Arguments("{}"), cancellationToken: Ct)));
        Assert.Equal("\"Write\"", Text(await Client.CallToolAsync("grant_default", Arguments("""{"access":"None","extra":"write"}"""), cancellationToken: Ct)));
        var schema = (await Client.ListToolsAsync(cancellationToken: Ct)).Single(t => t.Name == "grant_default").JsonSchema.GetProperty("properties");
        Assert.Equal("\"Read, Execute\"", schema.GetProperty("access").GetProperty("default").GetRawText());
        Assert.EndsWith("One or more of None, Read, Write, Execute, separated by commas.", schema.GetProperty("extra").GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_Collections_BindArraysDictionariesAndSets()
    {
        Assert.Equal("6:-", Text(await Client.CallToolAsync("sum", Arguments("""{"values":[1,2,3]}"""), cancellationToken: Ct)));
        Assert.Equal("1:a=x,b=y", Text(await Client.CallToolAsync("sum", Arguments("""{"values":[1],"labels":{"b":"y","a":"x"}}"""), cancellationToken: Ct)));
        Assert.Equal("2", Text(await Client.CallToolAsync("distinct", Arguments("""{"words":["a","b","a"]}"""), cancellationToken: Ct)));
        var bad = await Client.CallToolAsync("sum", Arguments("""{"values":[1,"x"]}"""), cancellationToken: Ct);
        Assert.Contains("'values[1]' must be an integer", Text(bad), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_NullableAndFormattedValues_Bind()
    {
        var some = await Client.CallToolAsync("optional", Arguments("""{"note":"n","when":"2025-01-31","id":"3f2504e0-4f89-11d3-9a0c-0305e82c3301","span":"01:30:00"}"""), cancellationToken: Ct);
        var none = await Client.CallToolAsync("optional", Arguments("""{"note":null}"""), cancellationToken: Ct);
        var badDate = await Client.CallToolAsync("optional", Arguments("""{"note":"n","when":"31/01/2025"}"""), cancellationToken: Ct);

        Assert.Equal("n|2025-01-31|3f2504e0-4f89-11d3-9a0c-0305e82c3301|01:30:00", Text(some));
        Assert.Equal("null|-|-|-", Text(none));
        Assert.Contains("'when' must be a date such as \"2025-01-31\"", Text(badDate), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_ContentResults_PassThrough()
    {
        Assert.Empty((await Client.CallToolAsync("nothing", cancellationToken: Ct)).Content);
        Assert.IsType<ImageContentBlock>(Assert.Single((await Client.CallToolAsync("image", cancellationToken: Ct)).Content));
        var custom = await Client.CallToolAsync("custom_result", cancellationToken: Ct);
        Assert.True(custom.IsError);
        Assert.Equal("custom", Text(custom));
        Assert.Equal(["one", "two"], (await Client.CallToolAsync("blocks", cancellationToken: Ct)).Content.Cast<TextContentBlock>().Select(b => b.Text));
        var aiError = await Client.CallToolAsync("ai_error", cancellationToken: Ct);
        Assert.True(aiError.IsError);
    }

    [Fact]
    public async Task Call_ListResult_IsJsonTextWithoutStructuredContent()
    {
        var result = await Client.CallToolAsync("list", cancellationToken: Ct);

        Assert.Equal("""["a","b"]""", Text(result));
        Assert.Null(result.StructuredContent);
    }

    [Fact]
    public async Task Call_RawJson_RoundTrips()
    {
        var result = await Client.CallToolAsync("raw", Arguments("""{"value":{"k":[1,true,null]}}"""), cancellationToken: Ct);

        Assert.Equal("""{"k":[1,true,null]}""", Text(result));
        Assert.Equal("""{"k":[1,true,null]}""", result.StructuredContent!.Value.GetRawText());
    }

    [Fact]
    public async Task Call_InstanceTool_UsesConstructorInjectionAndDisposesTheInstance()
    {
        var before = Volatile.Read(ref Signals.Disposed);

        var result = await Client.CallToolAsync("greet", new Dictionary<string, object?> { ["name"] = "Ada" }, cancellationToken: Ct);

        Assert.Equal("Hello, Ada!", Text(result));
        Assert.True(Volatile.Read(ref Signals.Disposed) > before);
    }

    [Fact]
    public async Task Call_ServicesAndRequestContext_AreInjected()
    {
        Assert.Equal("1", Text(await Client.CallToolAsync("count", cancellationToken: Ct)));
        Assert.Equal("2", Text(await Client.CallToolAsync("count", cancellationToken: Ct)));
        Assert.Equal("fast", Text(await Client.CallToolAsync("keyed", cancellationToken: Ct)));
        Assert.Equal("tests|whoami|True", Text(await Client.CallToolAsync("whoami", cancellationToken: Ct)));
        var tools = await Client.ListToolsAsync(cancellationToken: Ct);
        Assert.Equal("""{"type":"object","properties":{}}""", Assert.Single(tools, t => t.Name == "count").JsonSchema.GetRawText());
    }

    [Fact]
    public async Task Call_Progress_ReachesTheClient()
    {
        Signals.ProgressSeen = new(TaskCreationOptions.RunContinuationsAsynchronously);
        var progress = new Progress<ProgressNotificationValue>(v =>
        {
            if (v.Message == "half")
            {
                Signals.ProgressSeen.TrySetResult(true);
            }
        });

        var result = await Client.CallToolAsync("progress", progress: progress, cancellationToken: Ct).AsTask().WaitAsync(TestTimeouts.Default, Ct);

        Assert.Equal("done", Text(result));
    }

    [Fact]
    public async Task Call_Cancelled_CancelsTheTool()
    {
        Signals.WaitStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var call = Client.CallToolAsync("wait", cancellationToken: cancel.Token).AsTask();
        await Signals.WaitStarted.Task.WaitAsync(TestTimeouts.Default, Ct);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Equal("hi", Text(await Client.CallToolAsync("echo", new Dictionary<string, object?> { ["text"] = "hi" }, cancellationToken: Ct)));
    }

    [Fact]
    public async Task Call_McpException_ReachesTheModel()
    {
        var result = await Client.CallToolAsync("fail", new Dictionary<string, object?> { ["reason"] = "disk full" }, cancellationToken: Ct);

        Assert.True(result.IsError);
        Assert.Contains("disk full", Text(result), StringComparison.Ordinal);
    }

    [Fact]
    public void Metadata_CarriesClassAndMethodAttributes()
    {
        var fail = MmcpServerDefinition.Of<SampleServer>().CreateTools().Single(t => t.ProtocolTool.Name == "fail");

        var audits = fail.Metadata.OfType<AuditAttribute>().ToList();

        Assert.Equal(["server", "high"], audits.Select(a => a.Level));
        Assert.True(audits[1].Sensitive);
        Assert.Contains(fail.Metadata, m => m is McpServerAttribute { Id: "com.example.sample" });
    }

    [Fact]
    public async Task Resources_StaticAndTemplated_AreReadWithTypedVariables()
    {
        var resources = await Client.ListResourcesAsync(cancellationToken: Ct);
        var templates = await Client.ListResourceTemplatesAsync(cancellationToken: Ct);
        var readme = await Client.ReadResourceAsync("sample://readme", cancellationToken: Ct);
        var item = await Client.ReadResourceAsync("sample://items/42?format=long", cancellationToken: Ct);
        var itemDefault = await Client.ReadResourceAsync("sample://items/7", cancellationToken: Ct);

        Assert.Equal("text/markdown", Assert.Single(resources).MimeType);
        Assert.Equal("sample://items/{id}{?format}", Assert.Single(templates).UriTemplate);
        Assert.Equal("# Sample", Assert.IsType<TextResourceContents>(Assert.Single(readme.Contents)).Text);
        var contents = Assert.IsType<TextResourceContents>(Assert.Single(item.Contents));
        Assert.Equal("""{"id":42,"format":"long"}""", contents.Text);
        Assert.Equal("sample://items/42?format=long", contents.Uri);
        Assert.Equal("application/json", contents.MimeType);
        Assert.Equal("""{"id":7,"format":"short"}""", Assert.IsType<TextResourceContents>(Assert.Single(itemDefault.Contents)).Text);
    }

    [Fact]
    public async Task Resources_BadVariable_IsAnInvalidParamsError()
    {
        var ex = await Assert.ThrowsAsync<McpProtocolException>(() => Client.ReadResourceAsync("sample://items/abc", cancellationToken: Ct).AsTask());

        Assert.Equal(McpErrorCode.InvalidParams, ex.ErrorCode);
        Assert.Contains("'id' must be an integer, not the string \"abc\"", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prompts_BindArgumentsAndConvertMessages()
    {
        var prompts = await Client.ListPromptsAsync(cancellationToken: Ct);
        var greeting = await Client.GetPromptAsync("greeting", new Dictionary<string, object?> { ["name"] = "Bo", ["times"] = "2" }, cancellationToken: Ct);
        var chat = await Client.GetPromptAsync("chat", new Dictionary<string, object?> { ["topic"] = "owls" }, cancellationToken: Ct);

        var declared = Assert.Single(prompts, p => p.Name == "greeting").ProtocolPrompt;
        Assert.Equal(["name", "times"], declared.Arguments!.Select(a => a.Name));
        Assert.Equal([true, false], declared.Arguments!.Select(a => a.Required ?? false));
        Assert.Equal("Hi Bo. Hi Bo.", Assert.IsType<TextContentBlock>(Assert.Single(greeting.Messages).Content).Text);
        Assert.Equal("Greets someone.", greeting.Description);
        Assert.Equal(2, chat.Messages.Count);
    }

    [Fact]
    public async Task Prompts_MissingArgument_IsAnInvalidParamsError()
    {
        var ex = await Assert.ThrowsAsync<McpProtocolException>(() => Client.GetPromptAsync("greeting", cancellationToken: Ct).AsTask());

        Assert.Equal(McpErrorCode.InvalidParams, ex.ErrorCode);
        Assert.Contains("'name' is required", ex.Message, StringComparison.Ordinal);
    }

    private static Dictionary<string, object?> Arguments(string json) =>
        JsonDocument.Parse(json).RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());

    private static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
}
