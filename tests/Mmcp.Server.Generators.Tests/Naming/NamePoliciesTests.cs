using System.Text.Json;
using Mmcp.Core.Manifests;
using Mmcp.Core.Naming;
using Mmcp.Server.Generators.Naming;
using ModelContextProtocol.Server;

namespace Mmcp.Server.Generators.Tests.Naming;

/// <summary>The generator's compile-time naming rules agree exactly with the runtime rules they mirror.</summary>
public sealed class NamePoliciesTests
{
    private static readonly string[] KnownNames =
    [
        "ListFiles", "XMLHttpRequest", "getURL", "ID", "Id", "already_snake", "A1B2", "HTMLParser", "ABC", "a", "Version2Beta",
        "IOStream", "DoIt", "URLValue", "myX", "Page2Of3", "x_Y_z", "SHA256Hash", "get_Item", "Ünïcode", "IPv6Address", "Under__Score",
    ];

    public static TheoryData<string> Names => new(KnownNames.Concat(RandomIdentifiers(400, seed: 42)));

    [Theory]
    [MemberData(nameof(Names))]
    public void SnakeAndCamelCase_MatchSystemTextJson(string name)
    {
        Assert.Equal(JsonNamingPolicy.SnakeCaseLower.ConvertName(name), NamePolicies.SnakeCaseLower(name));
        Assert.Equal(JsonNamingPolicy.CamelCase.ConvertName(name), NamePolicies.CamelCase(name));
    }

    [Theory]
    [InlineData(nameof(NameFixtures.GetWeatherAsync))]
    [InlineData(nameof(NameFixtures.ListHTTPEndpoints))]
    [InlineData(nameof(NameFixtures.Async))]
    [InlineData(nameof(NameFixtures.Read_File2))]
    [InlineData(nameof(NameFixtures.SyncAsync))]
    public void DerivedToolNames_MatchTheSdk(string methodName)
    {
        var method = typeof(NameFixtures).GetMethod(methodName)!;
        var isAsync = method.ReturnType == typeof(Task) || (method.ReturnType.IsGenericType && method.ReturnType.GetGenericTypeDefinition() == typeof(Task<>));

        var sdk = McpServerTool.Create(method, target: null).ProtocolTool.Name;

        Assert.Equal(sdk, NamePolicies.DerivePrimitiveName(methodName, isAsync));
    }

    [Theory]
    [InlineData("com.example.app")]
    [InlineData("files")]
    [InlineData("")]
    [InlineData("Com.Example.App")]
    [InlineData("com..example")]
    [InlineData("com.example.")]
    [InlineData("com.ex__ample")]
    [InlineData("com.-example")]
    [InlineData("io.mmcp.examples.filemanager")]
    [InlineData("a.b")]
    [InlineData("com.example.my_app-2")]
    [InlineData("Files")]
    [InlineData("Bad Id")]
    [InlineData("!!!")]
    [InlineData("com.!!!")]
    [InlineData("Com.Exa mple.--App__2")]
    public void ServerIdRules_MatchMmcpCore(string id) => Assert.Equal(ServerIds.ExplainManifestId(id), NamePolicies.ExplainServerId(id));

    [Fact]
    public void ServerIdRules_MatchMmcpCoreOnGeneratedIds()
    {
        var random = new Random(7);
        const string Alphabet = "abcz09._-A_ !Z";
        for (var i = 0; i < 2000; i++)
        {
            var id = new string([.. Enumerable.Range(0, random.Next(0, 20)).Select(_ => Alphabet[random.Next(Alphabet.Length)])]);
            Assert.Equal(ServerIds.ExplainManifestId(id), NamePolicies.ExplainServerId(id));
        }
    }

    [Theory]
    [InlineData("com.example.app", "echo")]
    [InlineData("io.mmcp.examples.filemanager", "list_files")]
    [InlineData("com.example.documents.summarizer", "summarize_every_document_in_the_folder")]
    [InlineData("9lives.example", "tool.with.dots")]
    [InlineData("com.example.a", "x__y")]
    [InlineData("org.very-long-organisation-name.department.application", "a_rather_long_tool_name_too")]
    public void AggregatedNames_MatchToolNameMap(string serverId, string tool)
    {
        var map = ToolNameMap.Create([new QualifiedToolName(serverId, tool)]);
        var plain = NamePolicies.PlainAggregatedName(serverId, tool);

        var expected = plain.Length <= ToolNameMap.MaxLength ? plain : NamePolicies.HashedAggregatedName(serverId, tool);

        Assert.Equal(map.GetExposedName(serverId, tool), expected);
    }

    [Theory]
    [InlineData("echo", true)]
    [InlineData("list.files-2_x", true)]
    [InlineData("list files", false)]
    [InlineData("app:tool", false)]
    [InlineData("", false)]
    public void ToolNameRules_MatchMmcpCore(string name, bool valid)
    {
        Assert.Equal(valid, ManifestReader.IsValidToolName(name));
        Assert.Equal(valid, NamePolicies.ExplainToolName(name) is null);
    }

    private static IEnumerable<string> RandomIdentifiers(int count, int seed)
    {
        var random = new Random(seed);
        const string Letters = "aAbBxXyYzZ0129_";
        for (var i = 0; i < count; i++)
        {
            var length = random.Next(1, 14);
            yield return new string([.. Enumerable.Range(0, length).Select(_ => Letters[random.Next(Letters.Length)])]);
        }
    }
}

public static class NameFixtures
{
    public static Task<string> GetWeatherAsync() => Task.FromResult("sunny");

    public static string ListHTTPEndpoints() => "x";

    public static Task Async() => Task.CompletedTask;

    public static string Read_File2() => "x";

    public static string SyncAsync() => "not async";
}
