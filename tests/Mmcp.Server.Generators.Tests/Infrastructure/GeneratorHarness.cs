using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Loader;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Server;
using ServerManifest = Mmcp.Core.Manifests.ServerManifest;

namespace Mmcp.Server.Generators.Tests.Infrastructure;

/// <summary>Compiles a snippet against real reference assemblies with the generator and the analyzer, like a user's build.</summary>
internal static class GeneratorHarness
{
    private static readonly ImmutableArray<MetadataReference> References =
    [
        .. Net100.References.All,
        .. new[]
        {
            typeof(McpServerTool).Assembly,                        // ModelContextProtocol.Core
            typeof(IMcpServerBuilder).Assembly,                    // ModelContextProtocol
            typeof(IMmcpServer).Assembly,                          // Mmcp.Server
            typeof(ServerManifest).Assembly,                       // Mmcp.Core
            typeof(Microsoft.Extensions.AI.AIContent).Assembly,    // Microsoft.Extensions.AI.Abstractions
            typeof(IServiceCollection).Assembly,                   // Microsoft.Extensions.DependencyInjection.Abstractions
            typeof(Microsoft.Extensions.Logging.ILogger).Assembly, // Microsoft.Extensions.Logging.Abstractions
            typeof(McpJsonUtilities).Assembly,
        }.Distinct().Select(a => (MetadataReference)MetadataReference.CreateFromFile(a.Location)),
    ];

    public static GeneratorRun Run(string source, OutputKind kind = OutputKind.DynamicallyLinkedLibrary, DocumentationMode documentation = DocumentationMode.Diagnose, string assemblyName = "Snippet")
    {
        var parseOptions = new CSharpParseOptions(LanguageVersion.Latest, documentation);
        var tree = CSharpSyntaxTree.ParseText(source, parseOptions, path: "Snippet.cs");
        var compilation = CSharpCompilation.Create(
            assemblyName,
            [tree],
            References,
            new CSharpCompilationOptions(kind, nullableContextOptions: NullableContextOptions.Enable, generalDiagnosticOption: ReportDiagnostic.Default)
                .WithSpecificDiagnosticOptions([new("CS1591", ReportDiagnostic.Suppress)]));

        GeneratorDriver driver = CSharpGeneratorDriver.Create([new McpServerGenerator().AsSourceGenerator()], parseOptions: parseOptions);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var analyzers = output.WithAnalyzers([new McpServerAnalyzer()]);
        var analyzerDiagnostics = analyzers.GetAnalyzerDiagnosticsAsync(TestContext.Current.CancellationToken).GetAwaiter().GetResult();
        return new GeneratorRun(output, driver.GetRunResult(), generatorDiagnostics, analyzerDiagnostics);
    }
}

/// <summary>The outcome of one generator run.</summary>
internal sealed class GeneratorRun(Compilation output, GeneratorDriverRunResult result, ImmutableArray<Diagnostic> generatorDiagnostics, ImmutableArray<Diagnostic> analyzerDiagnostics)
{
    public Compilation Output { get; } = output;

    public GeneratorDriverRunResult Result { get; } = result;

    /// <summary>Gets the MMCP diagnostics (the analyzer's) and anything the generator itself reported (it never should).</summary>
    public ImmutableArray<Diagnostic> Diagnostics { get; } = [.. generatorDiagnostics, .. analyzerDiagnostics];

    /// <summary>Gets the compiler's errors and warnings for the source plus the generated code.</summary>
    public ImmutableArray<Diagnostic> CompilerDiagnostics => [.. Output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning)];

    public IReadOnlyList<(string HintName, string Source)> GeneratedSources =>
        [.. Result.Results.SelectMany(r => r.GeneratedSources).Select(s => (s.HintName, s.SourceText.ToString()))];

    public string Generated(string hintNameSuffix) =>
        GeneratedSources.Single(s => s.HintName.EndsWith(hintNameSuffix, StringComparison.Ordinal)).Source;

    public IEnumerable<string> Ids => Diagnostics.Select(d => d.Id);

    /// <summary>Asserts that the snippet and the generated code compile with no warnings and no MMCP diagnostics.</summary>
    public GeneratorRun AssertClean()
    {
        Assert.Empty(Diagnostics.Select(d => d.ToString()));
        Assert.Empty(CompilerDiagnostics.Select(d => d.ToString()));
        return this;
    }

    /// <summary>Emits and loads the compiled snippet into a collectible context.</summary>
    public Assembly Load()
    {
        using var stream = new MemoryStream();
        var emit = Output.Emit(stream, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(emit.Success, string.Join(Environment.NewLine, emit.Diagnostics));
        stream.Position = 0;
        return new AssemblyLoadContext("snippet-" + Guid.NewGuid().ToString("N"), isCollectible: true).LoadFromStream(stream);
    }

    /// <summary>Loads the snippet and returns the generated definition of the server class <paramref name="typeName"/>.</summary>
    public MmcpServerDefinition Definition(string typeName)
    {
        var type = Load().GetType(typeName, throwOnError: true)!;
        var of = typeof(MmcpServerDefinition).GetMethod(nameof(MmcpServerDefinition.Of))!.MakeGenericMethod(type);
        return (MmcpServerDefinition)of.Invoke(null, null)!;
    }
}
