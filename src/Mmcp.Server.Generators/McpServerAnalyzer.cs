using System;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using Mmcp.Server.Generators.Diagnostics;
using Mmcp.Server.Generators.Model;

namespace Mmcp.Server.Generators;

/// <summary>
/// Reports the MMCP1xxx diagnostics: invalid server ids and tool names, names too long for hubs, unsupported types,
/// missing descriptions, blocking waits and synchronous I/O inside MCP methods, MCP methods outside an
/// <c>[McpServer]</c> class, and server classes the generator cannot extend.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class McpServerAnalyzer : DiagnosticAnalyzer
{
    private static readonly string[] IoNamespaces = ["System.IO", "System.IO.Compression", "System.IO.Pipes", "System.Net", "System.Net.Http", "System.Net.Sockets", "System.Net.Security"];

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = [.. MmcpDiagnostics.All];

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            var known = new KnownTypes(start.Compilation);
            if (known.ToolAttribute is null && known.ResourceAttribute is null && known.PromptAttribute is null)
            {
                return; // the project does not use the MCP SDK
            }

            start.RegisterSymbolAction(symbol => AnalyzeType(symbol, known), SymbolKind.NamedType);
            start.RegisterOperationBlockStartAction(block => AnalyzeBody(block, known));
        });
    }

    private static void AnalyzeType(SymbolAnalysisContext context, KnownTypes known)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        if (KnownTypes.FindAttribute(type, known.McpServerAttribute) is not null)
        {
            var builder = new ServerModelBuilder(known, context.CancellationToken);
            builder.Build(type);
            foreach (var diagnostic in builder.Diagnostics)
            {
                if (diagnostic.Location == Location.None || diagnostic.Location.SourceTree is { } tree && context.Compilation.ContainsSyntaxTree(tree))
                {
                    context.ReportDiagnostic(diagnostic);
                }
            }

            return;
        }

        foreach (var method in type.GetMembers().OfType<IMethodSymbol>())
        {
            if (known.PrimitiveKindOf(method, out var attribute) is { } kind)
            {
                var registration = kind switch
                {
                    PrimitiveKindOfMethod.Tool => "Tools",
                    PrimitiveKindOfMethod.Resource => "Resources",
                    _ => "Prompts",
                };
                var attributeName = attribute!.AttributeClass!.Name;
                if (attributeName.EndsWith("Attribute", StringComparison.Ordinal))
                {
                    attributeName = attributeName.Substring(0, attributeName.Length - "Attribute".Length);
                }

                context.ReportDiagnostic(Diagnostic.Create(MmcpDiagnostics.PrimitiveOutsideServer, method.Locations.FirstOrDefault(), method.Name, attributeName, type.Name, registration));
            }
        }
    }

    private static void AnalyzeBody(OperationBlockStartAnalysisContext context, KnownTypes known)
    {
        if (context.OwningSymbol is not IMethodSymbol method)
        {
            return;
        }

        if (known.PrimitiveKindOf(method, out _) is not { } kind)
        {
            return;
        }

        var kindName = kind switch
        {
            PrimitiveKindOfMethod.Tool => "tool",
            PrimitiveKindOfMethod.Resource => "resource",
            _ => "prompt",
        };
        var returnType = method.ReturnType;
        var isAsync = KnownTypes.Is(returnType, known.Task) || KnownTypes.Is(returnType, known.TaskOfT) || KnownTypes.Is(returnType, known.ValueTask) || KnownTypes.Is(returnType, known.ValueTaskOfT);

        context.RegisterOperationAction(
            operation =>
            {
                var reference = (IPropertyReferenceOperation)operation.Operation;
                if (reference.Property.Name == "Result" && (KnownTypes.Is(reference.Property.ContainingType, known.TaskOfT) || KnownTypes.Is(reference.Property.ContainingType, known.ValueTaskOfT)))
                {
                    operation.ReportDiagnostic(Diagnostic.Create(MmcpDiagnostics.BlockingCall, reference.Syntax.GetLocation(), reference.Property.ContainingType.Name + ".Result", kindName, method.Name));
                }
            },
            OperationKind.PropertyReference);

        context.RegisterOperationAction(
            operation =>
            {
                var invocation = (IInvocationOperation)operation.Operation;
                var target = invocation.TargetMethod;
                var containing = target.ContainingType;
                if (containing is null)
                {
                    return;
                }

                var display = containing.Name + "." + target.Name;
                if (IsBlockingWait(target, containing))
                {
                    operation.ReportDiagnostic(Diagnostic.Create(MmcpDiagnostics.BlockingCall, invocation.Syntax.GetLocation(), display, kindName, method.Name));
                    return;
                }

                if (!isAsync && AsyncAlternative(target, containing) is { } alternative)
                {
                    operation.ReportDiagnostic(Diagnostic.Create(MmcpDiagnostics.SynchronousIo, invocation.Syntax.GetLocation(), display, kindName, method.Name, returnType.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat), containing.Name + "." + alternative));
                }
            },
            OperationKind.Invocation);
    }

    private static bool IsBlockingWait(IMethodSymbol target, INamedTypeSymbol containing)
    {
        var type = containing.OriginalDefinition.ToDisplayString();
        return (type, target.Name) switch
        {
            ("System.Threading.Tasks.Task" or "System.Threading.Tasks.Task<TResult>", "Wait" or "WaitAll" or "WaitAny") => true,
            ("System.Threading.Thread", "Sleep") => true,
            ("System.Runtime.CompilerServices.TaskAwaiter" or "System.Runtime.CompilerServices.TaskAwaiter<TResult>"
                or "System.Runtime.CompilerServices.ValueTaskAwaiter" or "System.Runtime.CompilerServices.ValueTaskAwaiter<TResult>"
                or "System.Runtime.CompilerServices.ConfiguredTaskAwaitable.ConfiguredTaskAwaiter"
                or "System.Runtime.CompilerServices.ConfiguredTaskAwaitable<TResult>.ConfiguredTaskAwaiter"
                or "System.Runtime.CompilerServices.ConfiguredValueTaskAwaitable.ConfiguredValueTaskAwaiter"
                or "System.Runtime.CompilerServices.ConfiguredValueTaskAwaitable<TResult>.ConfiguredValueTaskAwaiter", "GetResult") => true,
            ("System.Threading.WaitHandle", "WaitOne" or "WaitAll" or "WaitAny") => true,
            ("System.Threading.SemaphoreSlim", "Wait") => true,
            _ => false,
        } || (target.Name == "WaitOne" && InheritsFrom(containing, "System.Threading.WaitHandle"));
    }

    /// <summary>The name of the asynchronous counterpart of an I/O method (<c>ReadAllBytes</c> → <c>ReadAllBytesAsync</c>), if it has one.</summary>
    private static string? AsyncAlternative(IMethodSymbol target, INamedTypeSymbol containing)
    {
        if (target.Name is "Dispose" or "Close" || target.Name.EndsWith("Async", StringComparison.Ordinal))
        {
            return null;
        }

        var ns = containing.ContainingNamespace?.ToDisplayString();
        var isIo = IoNamespaces.Contains(ns) || (containing.ToDisplayString() == "System.Diagnostics.Process" && target.Name == "WaitForExit");
        if (!isIo)
        {
            return null;
        }

        var asyncName = target.Name + "Async";
        for (var t = containing; t is not null; t = t.BaseType)
        {
            if (t.GetMembers(asyncName).Any(m => m is IMethodSymbol { DeclaredAccessibility: Accessibility.Public } candidate && candidate.IsStatic == target.IsStatic))
            {
                return asyncName;
            }
        }

        return null;
    }

    private static bool InheritsFrom(INamedTypeSymbol type, string name)
    {
        for (var t = type; t is not null; t = t.BaseType)
        {
            if (t.ToDisplayString() == name)
            {
                return true;
            }
        }

        return false;
    }
}
