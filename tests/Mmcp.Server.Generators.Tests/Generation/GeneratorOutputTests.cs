using Microsoft.CodeAnalysis;
using Mmcp.Core.Manifests;
using Mmcp.Server.Generators.Tests.Infrastructure;

namespace Mmcp.Server.Generators.Tests.Generation;

/// <summary>What the generator emits for compiled snippets: sources (golden file), manifests, descriptions, and edge cases that must compile.</summary>
public sealed class GeneratorOutputTests
{
    private const string UpdateVariable = "MMCP_UPDATE_GOLDEN";

    [Fact]
    public void Generate_RepresentativeServer_MatchesGoldenFile()
    {
        var input = File.ReadAllText(Path.Combine(TestPaths.TestProjectDirectory, "Golden", "NotesServer.input.txt"));
        var goldenPath = Path.Combine(TestPaths.TestProjectDirectory, "Golden", "NotesServer.generated.txt");

        var run = GeneratorHarness.Run(input).AssertClean();
        var generated = run.Generated("Notes.NotesServer.Mmcp.g.cs");

        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            File.WriteAllText(goldenPath, generated);
        }

        Assert.True(File.Exists(goldenPath), $"Golden file missing: run the tests with {UpdateVariable}=1 to create it, then review it.");
        Assert.Equal(File.ReadAllText(goldenPath), generated, ignoreLineEndingDifferences: true);
    }

    [Fact]
    public void Generate_ManifestConstant_IsAValidManifestWithTheCapabilitySnapshot()
    {
        var input = File.ReadAllText(Path.Combine(TestPaths.TestProjectDirectory, "Golden", "NotesServer.input.txt"));
        var definition = GeneratorHarness.Run(input).AssertClean().Definition("Notes.NotesServer");

        var read = ManifestReader.Read(definition.ManifestJson, "generated");

        var manifest = Assert.IsType<ServerManifest>(read.Manifest);
        Assert.Empty(read.Diagnostics);
        Assert.Equal(("com.example.notes", "Notes", "2.0.0"), (manifest.Id, manifest.Name, manifest.Version));
        Assert.Equal(["productivity"], manifest.Categories);
        Assert.Equal(["notes.write"], manifest.Permissions);
        Assert.Equal("com.example.notes.sock", ((SocketTransport)manifest.Transport).Path);
        Assert.Null(manifest.Launch);
        Assert.Equal(["add_note", "find_notes"], manifest.Capabilities!.Tools.Select(t => t.Name));
        Assert.Equal("notes://{id}", Assert.Single(manifest.Capabilities.ResourceTemplates).UriTemplate);
        Assert.Equal("draft", Assert.Single(manifest.Capabilities.Prompts).Name);
    }

    [Fact]
    public void Generate_ManifestSnapshot_EqualsTheLiveProtocolObjects()
    {
        var input = File.ReadAllText(Path.Combine(TestPaths.TestProjectDirectory, "Golden", "NotesServer.input.txt"));
        var definition = GeneratorHarness.Run(input).AssertClean().Definition("Notes.NotesServer");
        var snapshot = ManifestReader.Read(definition.ManifestJson, "generated").Manifest!.Capabilities!;

        foreach (var tool in definition.CreateTools())
        {
            var listed = snapshot.Tools.Single(t => t.Name == tool.ProtocolTool.Name);
            Assert.Equal(Json(tool.ProtocolTool), Json(listed));
        }

        var template = Assert.Single(definition.CreateResources()).ProtocolResourceTemplate;
        Assert.Equal(Json(template), Json(snapshot.ResourceTemplates[0]));
        Assert.Equal(Json(Assert.Single(definition.CreatePrompts()).ProtocolPrompt), Json(snapshot.Prompts[0]));
    }

    [Fact]
    public void Generate_DescriptionAttribute_WinsOverXmlSummary()
    {
        var input = File.ReadAllText(Path.Combine(TestPaths.TestProjectDirectory, "Golden", "NotesServer.input.txt"));
        var tools = GeneratorHarness.Run(input).Definition("Notes.NotesServer").CreateTools();

        Assert.Equal("Finds notes whose title contains the text.", tools.Single(t => t.ProtocolTool.Name == "find_notes").ProtocolTool.Description);
        Assert.Equal("Adds a note.", tools.Single(t => t.ProtocolTool.Name == "add_note").ProtocolTool.Description);
    }

    [Theory]
    [InlineData(DocumentationMode.Diagnose)]
    [InlineData(DocumentationMode.None)]
    public void Generate_XmlComments_BecomeDescriptionsWithOrWithoutDocumentationFile(DocumentationMode mode)
    {
        var run = GeneratorHarness.Run(Diagnostics.DiagnosticTests.Server("""
            /// <summary>
            /// Resizes an <see cref="System.Drawing.Image"/> to fit a box;
            /// keeps the <c>aspect ratio</c>.
            /// </summary>
            /// <param name="width">Box width in <b>pixels</b>.</param>
            /// <param name="height">Box height; see <paramref name="width"/>.</param>
            [McpServerTool]
            public static string Resize(int width, int height) => "ok";
            """), documentation: mode);

        var tool = Assert.Single(run.Definition("Demo.DemoServer").CreateTools()).ProtocolTool;

        Assert.Equal("Resizes an Image to fit a box; keeps the aspect ratio.", tool.Description);
        Assert.Equal("Box width in pixels.", tool.InputSchema.GetProperty("properties").GetProperty("width").GetProperty("description").GetString());
        Assert.Equal("Box height; see width.", tool.InputSchema.GetProperty("properties").GetProperty("height").GetProperty("description").GetString());
    }

    [Fact]
    public void Generate_Executable_AddsTheManifestExportModuleInitializer()
    {
        var source = Diagnostics.DiagnosticTests.Server("""[McpServerTool, Description("Echo.")] public static string Echo([Description("Text.")] string text) => text;""")
            + "\ninternal static class Program { public static void Main() { } }\n";

        var exe = GeneratorHarness.Run(source, OutputKind.ConsoleApplication).AssertClean();
        var library = GeneratorHarness.Run(source).AssertClean();

        Assert.Contains("ModuleInitializer", exe.Generated("MmcpManifestExport.g.cs"), StringComparison.Ordinal);
        Assert.Contains("MmcpServerDefinition.Of<global::Demo.DemoServer>()", exe.Generated("MmcpManifestExport.g.cs"), StringComparison.Ordinal);
        Assert.DoesNotContain(library.GeneratedSources, s => s.HintName == "MmcpManifestExport.g.cs");
    }

    [Fact]
    public void Generate_EdgeShapes_CompileWithoutWarnings()
    {
        var run = GeneratorHarness.Run("""
            using System;
            using System.Collections.Generic;
            using System.ComponentModel;
            using System.Text.Json.Serialization;
            using Mmcp.Server;
            using ModelContextProtocol.Server;

            public enum Mode
            {
                [JsonStringEnumMemberName("fast-mode")] Fast,
                @class,
                Alias = Fast,
            }

            /// <summary>A tree.</summary>
            public sealed record Node(string Name, IReadOnlyList<Node>? Children = null);

            public struct Size
            {
                public int Width { get; set; }
                public int Height { get; set; }
            }

            public sealed class Options
            {
                [JsonPropertyName("max")] public int Maximum { get; init; } = 5;
                [JsonIgnore] public string Secret { get; set; } = "s";
                public Dictionary<string, List<int>>? Groups { get; set; }
                public DateTimeOffset? At { get; set; }
            }

            public static partial class Outer
            {
                [McpServer("com.example.edge", "Edge", "Edge cases.", "1.0")]
                public sealed partial record EdgeServer
                {
                    [McpServerTool, Description("Keywords.")]
                    public static string Keywords([Description("A.")] string @class, [Description("B.")] Mode @event = Mode.@class) => @class + @event;

                    [McpServerTool, Description("Tree.")]
                    public static Node Tree([Description("Root.")] Node root) => root;

                    [McpServerTool, Description("Size.")]
                    public static Size Grow([Description("Size.")] Size size, [Description("Options.")] Options? options = null) => size;

                    [McpServerTool, Description("Numbers.")]
                    public static decimal Numbers([Description("A.")] byte a = 1, [Description("B.")] float b = 1.5f, [Description("C.")] double c = double.NaN, [Description("D.")] decimal d = 2.5m, [Description("E.")] ulong e = 7, [Description("F.")] char f = 'x', [Description("G.")] sbyte g = -3) => d;

                    [McpServerTool, Description("Bytes.")]
                    public static byte[] Bytes([Description("Data.")] byte[] data, [Description("Ids.")] ISet<Guid> ids) => data;

                    [McpServerTool, Description("Any.")]
                    public static object? Any([Description("Value.")] object? value) => value;
                }
            }

            /// <summary>Without a namespace.</summary>
            [McpServer("com.example.global", "Global", "No namespace.", "1.0")]
            public partial class GlobalServer
            {
                [McpServerPrompt, Description("Prompt.")] public static string Ask([Description("Q.")] string question) => question;
            }
            """).AssertClean();

        var edge = run.Definition("Outer+EdgeServer");
        var tree = edge.CreateTools().Single(t => t.ProtocolTool.Name == "tree").ProtocolTool;
        var keywords = edge.CreateTools().Single(t => t.ProtocolTool.Name == "keywords").ProtocolTool;
        Assert.Equal(
            """{"description":"Root.","type":"object","properties":{"name":{"type":"string"},"children":{"type":["array","null"],"items":{"description":"A tree.","type":"object"},"default":null}},"required":["name"]}""",
            tree.InputSchema.GetProperty("properties").GetProperty("root").GetRawText());
        Assert.Equal("""["fast-mode","class","Alias"]""", keywords.InputSchema.GetProperty("properties").GetProperty("event").GetProperty("enum").GetRawText());
        Assert.Equal("\"class\"", keywords.InputSchema.GetProperty("properties").GetProperty("event").GetProperty("default").GetRawText());
        Assert.Equal(["ask"], run.Definition("GlobalServer").CreatePrompts().Select(p => p.ProtocolPrompt.Name));
    }

    [Fact]
    public void Generate_NullForgivenDefaults_CompileWithoutWarnings()
    {
        // 'string text = null!' is a common way to make an argument optional; the generated binding must not turn it
        // into nullable warnings the app cannot fix (and that fail builds with TreatWarningsAsErrors).
        var run = GeneratorHarness.Run("""
            using System.Collections.Generic;
            using System.ComponentModel;
            using Mmcp.Server;
            using ModelContextProtocol.Server;

            public sealed record Query(string Text, string Scope = null!, IReadOnlyList<string> Tags = null!);

            public sealed class Filter
            {
                public string Label { get; init; } = null!;
            }

            [McpServer("com.example.nulls", "Nulls", "Null-forgiven defaults.", "1.0")]
            public partial class NullsServer
            {
                [McpServerTool, Description("Finds.")]
                public static string Find([Description("Text.")] string text = null!, [Description("Query.")] Query query = null!, [Description("Filter.")] Filter filter = null!, [Description("Values.")] int[] values = null!) => text;

                [McpServerPrompt, Description("Asks.")]
                public static string Ask([Description("Question.")] string question = null!) => question;

                [McpServerResource(UriTemplate = "nulls://{id}", Name = "item"), Description("An item.")]
                public static string Item([Description("Id.")] string id, [Description("Format.")] string format = null!) => id;
            }
            """).AssertClean();

        var find = run.Definition("NullsServer").CreateTools().Single().ProtocolTool;
        Assert.Null(find.InputSchema.TryGetProperty("required", out var required) ? required.GetRawText() : null);
    }

    [Fact]
    public void Generate_RecordServerWithInstanceTools_ResolvesThePrimaryConstructorFromServices()
    {
        var run = GeneratorHarness.Run("""
            using System.ComponentModel;
            using Mmcp.Server;
            using ModelContextProtocol.Server;

            namespace Demo;

            public interface IClock { string Now(); }

            [McpServer("com.example.clock", "Clock", "Tells the time.", "1.0")]
            public sealed partial record ClockServer(IClock Clock)
            {
                [McpServerTool, Description("The time.")] public string Now() => Clock.Now();
            }
            """).AssertClean();

        var source = run.Generated("Demo.ClockServer.Mmcp.g.cs");

        Assert.Contains("new global::Demo.ClockServer(global::Mmcp.Server.Runtime.GeneratedSupport.RequireService<global::Demo.IClock>(__request.Services, \"ClockServer(Clock)\"))", source, StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_InvalidMembers_AreSkippedAndTheRestGenerated()
    {
        var run = GeneratorHarness.Run(Diagnostics.DiagnosticTests.Server("""
            [McpServerTool, Description("Good.")] public static string Good([Description("Text.")] string text) => text;
            [McpServerTool, Description("Bad.")] public static string Bad([Description("Callback.")] Action callback) => "x";
            """));

        Assert.Contains(run.Diagnostics, d => d.Id == "MMCP1007");
        Assert.Equal(["good"], run.Definition("Demo.DemoServer").CreateTools().Select(t => t.ProtocolTool.Name));
    }

    [Fact]
    public void Generate_UnrelatedEdit_ReusesTheCachedOutput()
    {
        var source = Diagnostics.DiagnosticTests.Server("""[McpServerTool, Description("Echo.")] public static string Echo([Description("Text.")] string text) => text;""");
        var parse = new Microsoft.CodeAnalysis.CSharp.CSharpParseOptions(Microsoft.CodeAnalysis.CSharp.LanguageVersion.Latest);
        var first = GeneratorHarness.Run(source).Output.RemoveAllSyntaxTrees()
            .AddSyntaxTrees(Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText(source, parse, "Snippet.cs", cancellationToken: TestContext.Current.CancellationToken));
        GeneratorDriver driver = Microsoft.CodeAnalysis.CSharp.CSharpGeneratorDriver.Create(
            [new McpServerGenerator().AsSourceGenerator()], parseOptions: parse, driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        driver = driver.RunGenerators(first, TestContext.Current.CancellationToken);

        var edited = first.AddSyntaxTrees(Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText("namespace Other; internal static class Unrelated { }", parse, "Other.cs", cancellationToken: TestContext.Current.CancellationToken));
        driver = driver.RunGenerators(edited, TestContext.Current.CancellationToken);

        var outputs = driver.GetRunResult().Results.Single().TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).ToList();
        Assert.NotEmpty(outputs);
        Assert.All(outputs, o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, o.Reason.ToString()));
    }

    private static string Json<T>(T value) => System.Text.Json.JsonSerializer.Serialize(value, ModelContextProtocol.McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(T)));
}
