using Microsoft.CodeAnalysis;
using Mmcp.Server.Generators.Diagnostics;
using Mmcp.Server.Generators.Tests.Infrastructure;

namespace Mmcp.Server.Generators.Tests.Diagnostics;

/// <summary>Every MMCP diagnostic: a snippet that triggers it, and the corrected snippet, which compiles clean.</summary>
public sealed class DiagnosticTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.ComponentModel;
        using System.IO;
        using System.Threading;
        using System.Threading.Tasks;
        using Mmcp.Server;
        using ModelContextProtocol.Server;

        namespace Demo;

        """;

    public static TheoryData<string, string, string> Cases => new()
    {
        {
            "MMCP1001",
            Server("""[McpServerTool, Description("Echo.")] public static string Echo([Description("Text.")] string text) => text;""", id: "NotReverseDns"),
            Server("""[McpServerTool, Description("Echo.")] public static string Echo([Description("Text.")] string text) => text;""")
        },
        {
            "MMCP1002",
            Usings + """
                [McpServer("com.example.demo", "Demo", "A demo.", "1.0")]
                public sealed class DemoServer
                {
                    [McpServerTool, Description("Echo.")] public static string Echo([Description("Text.")] string text) => text;
                }
                """,
            Server("""[McpServerTool, Description("Echo.")] public static string Echo([Description("Text.")] string text) => text;""")
        },
        {
            "MMCP1003",
            Usings + """
                public sealed class LooseTools
                {
                    [McpServerTool, Description("Echo.")] public static string Echo([Description("Text.")] string text) => text;
                }
                """,
            Server("""[McpServerTool, Description("Echo.")] public static string Echo([Description("Text.")] string text) => text;""")
        },
        {
            "MMCP1004",
            Server("""
                [McpServerTool(Name = "echo"), Description("Echo.")] public static string Echo([Description("Text.")] string text) => text;
                [McpServerTool(Name = "echo"), Description("Echo again.")] public static string Echo2([Description("Text.")] string text) => text;
                """),
            Server("""
                [McpServerTool(Name = "echo"), Description("Echo.")] public static string Echo([Description("Text.")] string text) => text;
                [McpServerTool(Name = "echo2"), Description("Echo again.")] public static string Echo2([Description("Text.")] string text) => text;
                """)
        },
        {
            "MMCP1005",
            Server("""[McpServerTool(Name = "echo text"), Description("Echo.")] public static string Echo([Description("Text.")] string text) => text;"""),
            Server("""[McpServerTool(Name = "echo_text"), Description("Echo.")] public static string Echo([Description("Text.")] string text) => text;""")
        },
        {
            "MMCP1006",
            Server("""[McpServerTool(Name = "summarize_every_document_in_the_folder"), Description("Summarize.")] public static string S([Description("Text.")] string text) => text;""", id: "com.example.documents.summarizer"),
            Server("""[McpServerTool(Name = "summarize_folder"), Description("Summarize.")] public static string S([Description("Text.")] string text) => text;""", id: "com.example.documents.summarizer")
        },
        {
            "MMCP1007",
            Server("""[McpServerTool, Description("Count.")] public static int Count([Description("Words by length.")] Dictionary<int, string> words) => words.Count;"""),
            Server("""[McpServerTool, Description("Count.")] public static int Count([Description("Words by length.")] Dictionary<string, string> words) => words.Count;""")
        },
        {
            "MMCP1008",
            Server("""[McpServerTool] public static string Echo([Description("Text.")] string text) => text;"""),
            Server("""
                /// <summary>Echoes the text.</summary>
                [McpServerTool] public static string Echo([Description("Text.")] string text) => text;
                """)
        },
        {
            "MMCP1009",
            Server("""
                /// <summary>Echoes the text.</summary>
                [McpServerTool] public static string Echo(string text) => text;
                """),
            Server("""
                /// <summary>Echoes the text.</summary>
                /// <param name="text">The text.</param>
                [McpServerTool] public static string Echo(string text) => text;
                """)
        },
        {
            "MMCP1010",
            Server("""[McpServerTool, Description("Waits.")] public static string Wait() { Task.Delay(10).Wait(); return "ok"; }"""),
            Server("""[McpServerTool, Description("Waits.")] public static async Task<string> Wait() { await Task.Delay(10); return "ok"; }""")
        },
        {
            "MMCP1011",
            Server("""[McpServerTool, Description("Reads.")] public static string Read([Description("Path.")] string path) => File.ReadAllText(path);"""),
            Server("""[McpServerTool, Description("Reads.")] public static Task<string> Read([Description("Path.")] string path, CancellationToken cancellationToken) => File.ReadAllTextAsync(path, cancellationToken);""")
        },
        {
            "MMCP1012",
            Usings + """
                [McpServer("com.example.demo", "Demo", "A demo.", "1.0")]
                public sealed partial class DemoServer<T>
                {
                    [McpServerTool, Description("Echo.")] public static string Echo([Description("Text.")] string text) => text;
                }
                """,
            Server("""[McpServerTool, Description("Echo.")] public static string Echo([Description("Text.")] string text) => text;""")
        },
        {
            "MMCP1013",
            Server("""[McpServerTool, Description("Numbers.")] public static async IAsyncEnumerable<int> Numbers() { await Task.Yield(); yield return 1; }"""),
            Server("""[McpServerTool, Description("Numbers.")] public static async Task<int[]> Numbers() { await Task.Yield(); return [1]; }""")
        },
        {
            "MMCP1014",
            Server("""[McpServerResource(UriTemplate = "demo://items/{id}/{part}", Name = "item"), Description("An item.")] public static string Item([Description("The id.")] string id) => id;"""),
            Server("""[McpServerResource(UriTemplate = "demo://items/{id}", Name = "item"), Description("An item.")] public static string Item([Description("The id.")] string id) => id;""")
        },
        {
            "MMCP1015",
            Server("""[McpServerTool, Description("Echo.")] public static T Echo<T>([Description("Value.")] T value) => value;"""),
            Server("""[McpServerTool, Description("Echo.")] public static string Echo([Description("Value.")] string value) => value;""")
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Diagnostic_BadSnippet_IsReported(string id, string bad, string good)
    {
        _ = good;
        var run = GeneratorHarness.Run(bad);

        var diagnostic = Assert.Single(run.Diagnostics, d => d.Id == id);
        Assert.Equal(MmcpDiagnostics.All.Single(d => d.Id == id).DefaultSeverity, diagnostic.Severity);
        Assert.True(diagnostic.Location.IsInSource, $"{id} has no source location");
        Assert.DoesNotContain(run.Diagnostics, d => d.Id != id && d.Id.StartsWith("MMCP", StringComparison.Ordinal) && d.Severity == DiagnosticSeverity.Error && id is not "MMCP1002" and not "MMCP1012");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Diagnostic_CorrectedSnippet_IsClean(string id, string bad, string good)
    {
        _ = (id, bad);
        GeneratorHarness.Run(good).AssertClean();
    }

    [Fact]
    public void Diagnostics_EveryIdHasATestCaseAndADocumentedSection()
    {
        var tested = Cases.Select(c => (string)((ITheoryDataRow)c).GetData()[0]!).ToHashSet();
        var docs = File.ReadAllText(Path.Combine(Repository.Root, "docs", "mmcp-diagnostics.md"));

        foreach (var descriptor in MmcpDiagnostics.All)
        {
            Assert.Contains(descriptor.Id, tested);
            Assert.Contains("## " + descriptor.Id, docs, StringComparison.Ordinal);
        }

        Assert.Equal(MmcpDiagnostics.All.Length, MmcpDiagnostics.All.Select(d => d.Id).Distinct().Count());
    }

    [Fact]
    public void MMCP1001_Message_SaysHowToFixTheId()
    {
        var run = GeneratorHarness.Run(Server("""[McpServerTool, Description("Echo.")] public static string Echo([Description("Text.")] string text) => text;""", id: "files"));

        Assert.Equal("Invalid server id: 'files' is not reverse-DNS; use at least two dot-separated segments such as 'com.example.files'", Assert.Single(run.Diagnostics).GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void MMCP1001_SuggestedId_IsValid()
    {
        var run = GeneratorHarness.Run(Server("""[McpServerTool, Description("Echo.")] public static string Echo([Description("Text.")] string text) => text;""", id: "My Files"));

        Assert.Equal("Invalid server id: 'My Files' is not reverse-DNS; use at least two dot-separated segments such as 'com.example.my-files'", Assert.Single(run.Diagnostics).GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        GeneratorHarness.Run(Server("""[McpServerTool, Description("Echo.")] public static string Echo([Description("Text.")] string text) => text;""", id: "com.example.my-files")).AssertClean();
    }

    [Fact]
    public void MMCP1002_NestedInNonPartialClass_NamesTheContainer()
    {
        var run = GeneratorHarness.Run(Usings + """
            public static class Outer
            {
                [McpServer("com.example.demo", "Demo", "A demo.", "1.0")]
                public sealed partial class DemoServer
                {
                    [McpServerTool, Description("Echo.")] public static string Echo([Description("Text.")] string text) => text;
                }
            }
            """);

        var message = Assert.Single(run.Diagnostics, d => d.Id == "MMCP1002").GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("'Outer'", message, StringComparison.Ordinal);
        Assert.Empty(run.GeneratedSources);
    }

    [Fact]
    public void MMCP1004_TemplatesThatDifferOnlyInVariableNames_AreDuplicates()
    {
        // 'notes://{id}' and 'notes://{name}' match the same URIs: a read reaches only the first.
        var run = GeneratorHarness.Run(Server("""
            [McpServerResource(UriTemplate = "notes://{id}", Name = "by_id"), Description("A note by id.")] public static string ById([Description("Id.")] string id) => id;
            [McpServerResource(UriTemplate = "NOTES://{name}", Name = "by_name"), Description("A note by name.")] public static string ByName([Description("Name.")] string name) => name;
            [McpServerResource(UriTemplate = "notes://{+path}", Name = "by_path"), Description("A note by path.")] public static string ByPath([Description("Path.")] string path) => path;
            """));

        var message = Assert.Single(run.Diagnostics, d => d.Id == "MMCP1004").GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("'NOTES://{name}'", message, StringComparison.Ordinal);
        Assert.Contains("'ById' and 'ByName'", message, StringComparison.Ordinal);
        Assert.Contains("UriTemplate", message, StringComparison.Ordinal);
        Assert.DoesNotContain("set a different Name", message, StringComparison.Ordinal);
    }

    [Fact]
    public void MMCP1006_Message_ShowsTheNameHubsWillUse()
    {
        var run = GeneratorHarness.Run(Server("""[McpServerTool(Name = "summarize_every_document_in_the_folder"), Description("Summarize.")] public static string S([Description("Text.")] string text) => text;""", id: "com.example.documents.summarizer"));

        var message = Assert.Single(run.Diagnostics).GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        var expected = Mmcp.Core.Naming.ToolNameMap.Create([new("com.example.documents.summarizer", "summarize_every_document_in_the_folder")])
            .GetExposedName("com.example.documents.summarizer", "summarize_every_document_in_the_folder")!;
        Assert.Contains($"shortened to '{expected}'", message, StringComparison.Ordinal);
    }

    [Fact]
    public void MMCP1007_InjectedTypes_AreNotArguments()
    {
        GeneratorHarness.Run(Server("""
            [McpServerTool, Description("Injected.")]
            public static string Injected(
                McpServer server,
                RequestContext<ModelContextProtocol.Protocol.CallToolRequestParams> request,
                IProgress<ModelContextProtocol.ProgressNotificationValue> progress,
                IServiceProvider services,
                System.Security.Claims.ClaimsPrincipal? user,
                Microsoft.Extensions.Logging.ILogger<DemoServer>? logger,
                [FromServices] System.Text.StringBuilder buffer,
                CancellationToken cancellationToken) => "ok";
            """)).AssertClean();
    }

    [Fact]
    public void MMCP1007_RequestContextOfAnotherPrimitive_IsReported()
    {
        var run = GeneratorHarness.Run(Server("""[McpServerTool, Description("Wrong.")] public static string Wrong(RequestContext<ModelContextProtocol.Protocol.GetPromptRequestParams> request) => "x";"""));

        Assert.Contains("use RequestContext<CallToolRequestParams>", Assert.Single(run.Diagnostics, d => d.Id == "MMCP1007").GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Thread.Sleep(5);")]
    [InlineData("_ = Task.FromResult(1).Result;")]
    [InlineData("Task.FromResult(1).GetAwaiter().GetResult();")]
    [InlineData("new SemaphoreSlim(1).Wait();")]
    public void MMCP1010_BlockingWaits_AreReported(string statement)
    {
        var run = GeneratorHarness.Run(Server($$"""[McpServerTool, Description("Blocks.")] public static string Block() { {{statement}} return "x"; }"""));

        Assert.Contains(run.Diagnostics, d => d.Id == "MMCP1010");
    }

    [Fact]
    public void MMCP1011_SynchronousIoInAsyncMethod_IsNotReported()
    {
        var run = GeneratorHarness.Run(Server("""[McpServerTool, Description("Reads.")] public static async Task<string> Read([Description("Path.")] string path) { await Task.Yield(); return File.ReadAllText(path); }"""));

        Assert.DoesNotContain(run.Diagnostics, d => d.Id == "MMCP1011");
    }

    [Fact]
    public void MMCP1013_AsyncVoidTool_IsReported()
    {
        // An async void tool answers before its work is done, and an exception after its first await ends the process.
        var run = GeneratorHarness.Run(Server("""[McpServerTool, Description("Fires.")] public static async void Fire() { await Task.Yield(); throw new InvalidOperationException("boom"); }"""));

        var message = Assert.Single(run.Diagnostics, d => d.Id == "MMCP1013").GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("async void", message, StringComparison.Ordinal);
        Assert.Contains("return Task", message, StringComparison.Ordinal);
        GeneratorHarness.Run(Server("""[McpServerTool, Description("Fires.")] public static async Task Fire() { await Task.Yield(); }""")).AssertClean();
    }

    [Theory]
    [InlineData("""[McpServerPrompt, Description("Counts.")] public static int Count() => 1;""", "is not a prompt result")]
    [InlineData("""[McpServerResource(UriTemplate = "demo://count", Name = "count"), Description("Counts.")] public static int Count() => 1;""", "is not a resource result")]
    [InlineData("""[McpServerPrompt, Description("Counts.")] public static Task<int> Count() => Task.FromResult(1);""", "is not a prompt result")]
    public void MMCP1013_UnsupportedPromptOrResourceResult_IsReportedOnce(string member, string reason)
    {
        var run = GeneratorHarness.Run(Server(member));

        Assert.Contains(reason, Assert.Single(run.Diagnostics, d => d.Id == "MMCP1013").GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Version", "System.Version")]
    [InlineData("BigInteger", "System.Numerics.BigInteger")]
    [InlineData("ReadOnly", "Demo.ReadOnly")]
    public void MMCP1007_TypeWithNothingJsonCanSet_IsReported(string name, string type)
    {
        var run = GeneratorHarness.Run(Server($$"""[McpServerTool, Description("Takes.")] public static string Take([Description("Value.")] {{type}} value) => value.ToString()!;""") + """

            public sealed class ReadOnly { public int Count { get; } }
            """);

        var message = Assert.Single(run.Diagnostics, d => d.Id == "MMCP1007").GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("no property that JSON can set", message, StringComparison.Ordinal);
        _ = name;
    }

    [Fact]
    public void MMCP1007_TypeWithNothingJsonCanSet_IsFineAsAResult()
    {
        GeneratorHarness.Run(Server("""[McpServerTool, Description("Gives.")] public static ReadOnly Give() => new();""") + """

            public sealed class ReadOnly { public int Count { get; } }
            """).AssertClean();
    }

    [Theory]
    [InlineData("(int Count, string Name) pair")]
    [InlineData("ValueTuple<int, string> pair")]
    public void MMCP1007_Tuple_SaysToUseARecord(string parameter)
    {
        var run = GeneratorHarness.Run(Server($$"""[McpServerTool, Description("Takes.")] public static string Take([Description("Pair.")] {{parameter}}) => "x";"""));

        var message = Assert.Single(run.Diagnostics, d => d.Id == "MMCP1007").GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("is a tuple", message, StringComparison.Ordinal);
        Assert.DoesNotContain("[FromServices]", message, StringComparison.Ordinal);
    }

    [Fact]
    public void MMCP1007_TwoPropertiesWithOneJsonName_AreReported()
    {
        var run = GeneratorHarness.Run(Server("""[McpServerTool, Description("Takes.")] public static string Take([Description("Value.")] Clash value) => value.Name;""") + """

            public sealed class Clash
            {
                public string Name { get; set; } = "";
                [System.Text.Json.Serialization.JsonPropertyName("name")] public string Other { get; set; } = "";
            }
            """);

        var message = Assert.Single(run.Diagnostics, d => d.Id == "MMCP1007").GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("'Name' and 'Other'", message, StringComparison.Ordinal);
        Assert.Contains("[JsonPropertyName]", message, StringComparison.Ordinal);
    }

    [Fact]
    public void MMCP1013_TwoPropertiesWithOneJsonName_InAResult_AreReported()
    {
        var run = GeneratorHarness.Run(Server("""[McpServerTool, Description("Gives.")] public static Clash Give() => new();""") + """

            public sealed class Clash
            {
                public string Name { get; set; } = "";
                [System.Text.Json.Serialization.JsonPropertyName("name")] public string Other { get; set; } = "";
            }
            """);

        Assert.Contains("'Name' and 'Other'", Assert.Single(run.Diagnostics, d => d.Id == "MMCP1013").GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public void MMCP1014_ParameterMissingFromTemplate_NeedsADefault()
    {
        var bad = GeneratorHarness.Run(Server("""[McpServerResource(UriTemplate = "demo://items/{id}", Name = "item"), Description("An item.")] public static string Item([Description("Id.")] string id, [Description("Format.")] string format) => id;"""));
        var good = GeneratorHarness.Run(Server("""[McpServerResource(UriTemplate = "demo://items/{id}", Name = "item"), Description("An item.")] public static string Item([Description("Id.")] string id, [Description("Format.")] string format = "short") => id;"""));

        Assert.Contains("does not contain the parameter 'format'", Assert.Single(bad.Diagnostics, d => d.Id == "MMCP1014").GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        good.AssertClean();
    }

    internal static string Server(string members, string id = "com.example.demo") => Usings + $$"""
        [McpServer("{{id}}", "Demo", "A demo.", "1.0")]
        public sealed partial class DemoServer
        {
            {{members}}
        }
        """;
}
