using System.Text.Json;
using Microsoft.Extensions.AI;
using ModelContextProtocol.Protocol;

namespace Mmcp.Client.Tests.Functions;

[Trait("Speed", "slow")]
public sealed class AIFunctionTests : IDisposable
{
    private readonly TestEnvironment _env = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _env.Dispose();

    [Fact]
    public async Task GetAIFunctions_NamesSchemasAndFlattenedResults()
    {
        await _env.WriteManifestAsync(Servers.Stdio("io.example.tools"));
        await using var hub = _env.CreateHub();

        var functions = await hub.GetAIFunctionsAsync(cancellationToken: Ct);
        var echo = functions.Single(f => f.Name == "io_example_tools__echo");
        var fail = functions.Single(f => f.Name == "io_example_tools__fail");

        Assert.All(functions, f => Assert.Matches("^[a-zA-Z0-9_-]{1,64}$", f.Name));
        Assert.Equal("Echoes the text back.", echo.Description);
        Assert.Equal("string", echo.JsonSchema.GetProperty("properties").GetProperty("text").GetProperty("type").GetString());
        Assert.Equal("io.example.tools", echo.AdditionalProperties["mmcp.server"]);
        Assert.Equal("echo: hello", await echo.InvokeAsync(new AIFunctionArguments { ["text"] = "hello" }, Ct));
        Assert.Equal("Error: An error occurred invoking 'fail': boom", await fail.InvokeAsync(new AIFunctionArguments { ["message"] = "boom" }, Ct));
    }

    [Fact]
    public async Task AIFunction_SurvivesAServerRestart()
    {
        await _env.WriteManifestAsync(Servers.Stdio("io.example.tools"));
        await using var hub = _env.CreateHub();
        var functions = await hub.GetAIFunctionsAsync("io.example.tools", Ct);
        var crash = functions.Single(f => f.Name == "io_example_tools__crash");
        var echo = functions.Single(f => f.Name == "io_example_tools__echo");

        var error = await Assert.ThrowsAsync<HubException>(() => crash.InvokeAsync(new AIFunctionArguments { ["exitCode"] = 1, ["message"] = "bye" }, Ct).AsTask());

        Assert.Equal(HubErrorCode.ServerCrashed, error.Code);
        Assert.Equal("echo: again", await echo.InvokeAsync(new AIFunctionArguments { ["text"] = "again" }, Ct));
    }

    [Fact]
    public void ToFunctionResult_StructuredAndNonTextContent_KeepTheirShape()
    {
        var structured = new CallToolResult { Content = [new TextContentBlock { Text = "{\"t\":1}" }], StructuredContent = JsonDocument.Parse("""{"t":1}""").RootElement };
        var image = new CallToolResult { Content = [new TextContentBlock { Text = "a picture" }, ImageContentBlock.FromBytes(new byte[] { 1, 2, 3 }, "image/png")] };

        Assert.Equal(1, Assert.IsType<JsonElement>(HubToolResults.ToFunctionResult(structured)).GetProperty("t").GetInt32());
        var contents = Assert.IsAssignableFrom<IList<AIContent>>(HubToolResults.ToFunctionResult(image));
        Assert.IsType<TextContent>(contents[0]);
        Assert.Equal("image/png", Assert.IsType<DataContent>(contents[1]).MediaType);
    }
}
