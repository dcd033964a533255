using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Mmcp.Server.Generators.Diagnostics;
using Mmcp.Server.Generators.Docs;
using Mmcp.Server.Generators.Naming;
using Mmcp.Server.Generators.Schema;

namespace Mmcp.Server.Generators.Model;

/// <summary>
/// Reads a class marked <c>[McpServer]</c> into a <see cref="ServerModel"/> and reports every problem as a diagnostic.
/// The generator and the analyzer share it, so what is reported is exactly what generation skips.
/// </summary>
internal sealed class ServerModelBuilder
{
    private readonly KnownTypes _known;
    private readonly CancellationToken _cancellationToken;
    private readonly List<Diagnostic> _diagnostics = [];

    public ServerModelBuilder(KnownTypes known, CancellationToken cancellationToken)
    {
        _known = known;
        _cancellationToken = cancellationToken;
        Shapes = new TypeShapes(known, cancellationToken);
    }

    public TypeShapes Shapes { get; }

    public IReadOnlyList<Diagnostic> Diagnostics => _diagnostics;

    public ServerModel? Build(INamedTypeSymbol type)
    {
        var attribute = KnownTypes.FindAttribute(type, _known.McpServerAttribute);
        if (attribute is null)
        {
            return null;
        }

        var model = new ServerModel(type);
        ReadIdentity(model, attribute);
        CheckClassShape(model);

        foreach (var method in type.GetMembers().OfType<IMethodSymbol>())
        {
            _cancellationToken.ThrowIfCancellationRequested();
            var kind = _known.PrimitiveKindOf(method, out var primitiveAttribute);
            if (kind is null)
            {
                continue;
            }

            model.Methods.Add(BuildMethod(model, method, kind.Value, primitiveAttribute!));
        }

        CheckDuplicates(model);
        if (model.Methods.Any(m => !m.Method.IsStatic && !m.Invalid))
        {
            ChooseConstructor(model);
        }

        var index = 0;
        foreach (var method in model.Methods)
        {
            method.ClassName = $"__Mmcp{method.Kind}_{method.Method.Name}_{index++}";
        }

        return model;
    }

    private void ReadIdentity(ServerModel model, AttributeData attribute)
    {
        var args = attribute.ConstructorArguments;
        model.Id = args.Length > 0 ? args[0].Value as string ?? string.Empty : string.Empty;
        model.Name = args.Length > 1 ? args[1].Value as string ?? string.Empty : string.Empty;
        model.Description = args.Length > 2 ? args[2].Value as string ?? string.Empty : string.Empty;
        model.Version = args.Length > 3 ? args[3].Value as string ?? string.Empty : string.Empty;
        foreach (var named in attribute.NamedArguments)
        {
            var target = named.Key switch
            {
                "Categories" => model.Categories,
                "Permissions" => model.Permissions,
                _ => null,
            };
            if (target is not null && named.Value.Kind == TypedConstantKind.Array)
            {
                target.AddRange(named.Value.Values.Select(v => v.Value as string).Where(v => v is not null)!);
            }
        }

        if (NamePolicies.ExplainServerId(model.Id) is { } reason)
        {
            var message = reason.StartsWith("'", StringComparison.Ordinal) ? "Invalid server id: " + reason : $"The server id '{model.Id}' {reason}";
            Report(MmcpDiagnostics.InvalidServerId, ArgumentLocation(attribute, 0), message);
        }
    }

    private void CheckClassShape(ServerModel model)
    {
        var type = model.Type;
        var location = type.Locations.FirstOrDefault();
        if (type.IsStatic)
        {
            Report(MmcpDiagnostics.UnsupportedServerClass, location, type.Name, "a static class cannot implement IMmcpServer; remove 'static' (the methods may stay static)");
            model.CanGenerate = false;
        }

        if (type.IsGenericType)
        {
            Report(MmcpDiagnostics.UnsupportedServerClass, location, type.Name, "it is generic; a server's tools and manifest are fixed at compile time, so use a non-generic class");
            model.CanGenerate = false;
        }

        for (var t = type; t is not null; t = t.ContainingType)
        {
            if (t.DeclaredAccessibility is Accessibility.Private or Accessibility.Protected or Accessibility.ProtectedAndInternal)
            {
                Report(MmcpDiagnostics.UnsupportedServerClass, location, type.Name, $"'{t.Name}' is {SyntaxFacts.GetText(t.DeclaredAccessibility)}; the server class and the classes containing it must be internal or public");
                model.CanGenerate = false;
                break;
            }

            if (!SymbolEqualityComparer.Default.Equals(t, type) && t.IsGenericType)
            {
                Report(MmcpDiagnostics.UnsupportedServerClass, location, type.Name, $"it is nested in the generic type '{t.Name}'");
                model.CanGenerate = false;
                break;
            }
        }

        var notPartial = new List<string>();
        for (var t = type; t is not null; t = t.ContainingType)
        {
            var partial = t.DeclaringSyntaxReferences
                .Select(r => r.GetSyntax(_cancellationToken))
                .OfType<TypeDeclarationSyntax>()
                .Any(d => d.Modifiers.Any(SyntaxKind.PartialKeyword));
            if (!partial)
            {
                notPartial.Add(t.Name);
            }
        }

        if (notPartial.Count > 0)
        {
            var containers = notPartial.Where(n => n != type.Name).ToList();
            var detail = containers.Count == 0 ? string.Empty : $" (and so must its containing class{(containers.Count > 1 ? "es" : string.Empty)} {string.Join(", ", containers.Select(c => "'" + c + "'"))})";
            Report(MmcpDiagnostics.ServerClassNotPartial, location, type.Name, detail);
            model.CanGenerate = false;
        }
    }

    private MethodModel BuildMethod(ServerModel server, IMethodSymbol method, PrimitiveKindOfMethod kind, AttributeData attribute)
    {
        var model = new MethodModel(method, kind, attribute);
        var location = method.Locations.FirstOrDefault();
        var docs = DocComment.For(method, _cancellationToken);
        var named = attribute.NamedArguments.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

        if (method.IsGenericMethod)
        {
            // Everything else about a generic method would only repeat this.
            Fail(model, MmcpDiagnostics.UnsupportedMethod, location, method.Name, model.KindName, "it is generic; JSON Schemas are made at compile time, so use concrete types");
            return model;
        }

        if (method.ReturnsByRef || method.ReturnsByRefReadonly)
        {
            Fail(model, MmcpDiagnostics.UnsupportedMethod, location, method.Name, model.KindName, "it returns by reference");
        }

        if (method.MethodKind != MethodKind.Ordinary)
        {
            Fail(model, MmcpDiagnostics.UnsupportedMethod, location, method.Name, model.KindName, "only ordinary methods can be MCP methods");
        }

        if (!method.IsStatic && server.Type.IsAbstract)
        {
            Fail(model, MmcpDiagnostics.UnsupportedMethod, location, method.Name, model.KindName, $"it is an instance method of the abstract class '{server.Type.Name}', which cannot be created; make the method static or the class concrete");
        }

        BuildReturn(model, location);
        var isAsync = model.Return.IsAsync;
        model.Name = Str(named, "Name") ?? NamePolicies.DerivePrimitiveName(method.Name, isAsync);
        model.Title = Str(named, "Title");
        model.IconSource = Str(named, "IconSource") is { Length: > 0 } icon ? icon : null;
        model.Description = _known.DescriptionOf(method) ?? docs.Summary;
        model.Return.Description = DescriptionOfReturn(method) ?? docs.Returns;
        ReadMeta(model);

        if (model.Description is null)
        {
            Report(MmcpDiagnostics.MissingDescription, location, model.KindName, model.Name);
        }

        foreach (var parameter in method.Parameters)
        {
            var parameterModel = BuildParameter(model, parameter, docs);
            if (parameterModel is not null)
            {
                model.Parameters.Add(parameterModel);
            }
        }

        switch (kind)
        {
            case PrimitiveKindOfMethod.Tool:
                BuildTool(server, model, named, location);
                break;
            case PrimitiveKindOfMethod.Resource:
                BuildResource(model, named);
                break;
        }

        return model;
    }

    private void BuildTool(ServerModel server, MethodModel model, Dictionary<string, TypedConstant> named, Location? location)
    {
        model.ReadOnly = Bool(named, "ReadOnly");
        model.Destructive = Bool(named, "Destructive");
        model.Idempotent = Bool(named, "Idempotent");
        model.OpenWorld = Bool(named, "OpenWorld");
        model.UseStructuredContent = Bool(named, "UseStructuredContent") ?? false;
        if (named.TryGetValue("OutputSchemaType", out var outputType) && outputType.Value is ITypeSymbol schemaType)
        {
            model.OutputSchemaShape = Shapes.Get(schemaType, out var error);
            if (model.OutputSchemaShape is null)
            {
                Fail(model, MmcpDiagnostics.UnsupportedMethod, location, model.Method.Name, "tool", $"its OutputSchemaType '{schemaType.ToDisplayString()}' {error}");
            }
        }

        if (NamePolicies.ExplainToolName(model.Name) is { } reason)
        {
            Fail(model, MmcpDiagnostics.InvalidToolName, NameLocation(model), model.Name, reason);
        }
        else if (NamePolicies.ExplainServerId(server.Id) is null)
        {
            var plain = NamePolicies.PlainAggregatedName(server.Id, model.Name);
            if (plain.Length > NamePolicies.MaxAggregatedNameLength)
            {
                Report(MmcpDiagnostics.AggregatedNameTooLong, NameLocation(model), model.Name, plain, plain.Length,
                    NamePolicies.HashedAggregatedName(server.Id, model.Name), Math.Max(1, NamePolicies.MaxToolNameLength(server.Id)));
            }
        }
    }

    private void BuildResource(MethodModel model, Dictionary<string, TypedConstant> named)
    {
        model.MimeType = Str(named, "MimeType") ?? "application/octet-stream";
        var explicitTemplate = Str(named, "UriTemplate");
        var arguments = model.Parameters.Where(p => p.Source == ParameterSource.Argument).ToList();
        model.UriTemplate = explicitTemplate ?? DeriveUriTemplate(model.Name, arguments);
        var pattern = UriTemplates.TryCreatePattern(model.UriTemplate, model.TemplateVariables, out var error);
        if (pattern is null)
        {
            Fail(model, MmcpDiagnostics.InvalidResourceTemplate, NameLocation(model, "UriTemplate"), model.Name, model.UriTemplate, error!);
            return;
        }

        model.IsTemplated = model.UriTemplate.IndexOf('{') >= 0;
        model.UriPattern = model.IsTemplated ? pattern : null;
        foreach (var variable in model.TemplateVariables)
        {
            if (!arguments.Any(a => a.Name == variable))
            {
                Fail(model, MmcpDiagnostics.InvalidResourceTemplate, NameLocation(model, "UriTemplate"), model.Name, model.UriTemplate,
                    $"has the variable '{{{variable}}}' but '{model.Method.Name}' has no parameter named '{variable}'");
            }
        }

        foreach (var argument in arguments)
        {
            if (!model.TemplateVariables.Contains(argument.Name) && !argument.HasDefault)
            {
                Fail(model, MmcpDiagnostics.InvalidResourceTemplate, argument.Symbol.Locations.FirstOrDefault(), model.Name, model.UriTemplate,
                    $"does not contain the parameter '{argument.Name}'; add {{{argument.Name}}} to the template or give the parameter a default value");
            }

            if (argument.Shape is { } shape && !IsUriBindable(shape))
            {
                Fail(model, MmcpDiagnostics.UnsupportedParameterType, argument.Symbol.Locations.FirstOrDefault(), argument.Name, model.Method.Name, argument.Symbol.Type.ToDisplayString(),
                    "cannot be read from a URI; resource parameters must be strings, numbers, booleans, enums, GUIDs, dates or times");
            }
        }
    }

    private static bool IsUriBindable(TypeShape shape) => shape.Kind switch
    {
        ShapeKind.Primitive => shape.Primitive != PrimitiveKind.Bytes,
        ShapeKind.Enum => true,
        ShapeKind.NullableValue => shape.Element is { } e && IsUriBindable(e),
        _ => false,
    };

    private static string DeriveUriTemplate(string name, List<ParameterModel> arguments)
    {
        var template = "resource://mcp/" + Uri.EscapeDataString(name);
        return arguments.Count == 0 ? template : template + "{?" + string.Join(",", arguments.Select(a => a.Name)) + "}";
    }

    private ParameterModel? BuildParameter(MethodModel method, IParameterSymbol parameter, DocComment docs)
    {
        var location = parameter.Locations.FirstOrDefault();
        var type = parameter.Type;
        if (parameter.RefKind is RefKind.Ref or RefKind.Out or RefKind.RefReadOnlyParameter)
        {
            Fail(method, MmcpDiagnostics.UnsupportedParameterType, location, parameter.Name, method.Method.Name, type.ToDisplayString(), $"is passed by reference ({parameter.RefKind.ToString().ToLowerInvariant()}); MCP arguments are values");
            return null;
        }

        var injected = InjectedSource(method, parameter, out var injectionError);
        if (injectionError is not null)
        {
            Fail(method, MmcpDiagnostics.UnsupportedParameterType, location, parameter.Name, method.Method.Name, type.ToDisplayString(), injectionError);
            return null;
        }

        if (injected is { } source)
        {
            var service = new ParameterModel(parameter, source) { HasDefault = parameter.HasExplicitDefaultValue, Nullable = TypeShapes.IsNullable(type) };
            if (source == ParameterSource.KeyedService)
            {
                var key = KnownTypes.FindAttribute(parameter, _known.FromKeyedServicesAttribute)!.ConstructorArguments.FirstOrDefault();
                service.ServiceKeyCode = key.IsNull ? "null" : key.Kind == TypedConstantKind.Enum ? TypeShapes.DefaultCode(key.Type!, key.Value) : Literals.Code(key.Value, TypeShapes.NameOf(key.Type!), key.Type!.IsValueType);
            }

            return service;
        }

        var shape = Shapes.Get(type, out var error);
        if (shape is null)
        {
            if (type.TypeKind == TypeKind.Interface || type.IsAbstract)
            {
                return new ParameterModel(parameter, ParameterSource.Service) { HasDefault = parameter.HasExplicitDefaultValue, Nullable = TypeShapes.IsNullable(type) };
            }

            Fail(method, MmcpDiagnostics.UnsupportedParameterType, location, parameter.Name, method.Method.Name, type.ToDisplayString(), error!);
            return null;
        }

        if (TypeShapes.InputError(shape) is { } inputError)
        {
            Fail(method, MmcpDiagnostics.UnsupportedParameterType, location, parameter.Name, method.Method.Name, type.ToDisplayString(), inputError);
            return null;
        }

        var model = new ParameterModel(parameter, ParameterSource.Argument)
        {
            Shape = shape,
            Nullable = TypeShapes.IsNullable(type),
            HasDefault = parameter.HasExplicitDefaultValue,
            Description = _known.DescriptionOf(parameter) ?? docs.Parameter(parameter.Name),
        };
        if (parameter.HasExplicitDefaultValue)
        {
            model.DefaultCode = TypeShapes.DefaultCode(type, parameter.ExplicitDefaultValue);
            model.DefaultJson = Shapes.DefaultJson(type, parameter.ExplicitDefaultValue);
        }

        if (model.Description is null)
        {
            Report(MmcpDiagnostics.MissingParameterDescription, location, parameter.Name, method.KindName, method.Name.Length > 0 ? method.Name : method.Method.Name);
        }

        return model;
    }

    private ParameterSource? InjectedSource(MethodModel method, IParameterSymbol parameter, out string? error)
    {
        error = null;
        var type = parameter.Type;
        if (KnownTypes.Is(type, _known.CancellationToken))
        {
            return ParameterSource.CancellationToken;
        }

        if (KnownTypes.Is(type, _known.McpServer))
        {
            return ParameterSource.Server;
        }

        if (KnownTypes.Is(type, _known.RequestContext))
        {
            var expected = method.Kind switch
            {
                PrimitiveKindOfMethod.Tool => _known.CallToolRequestParams,
                PrimitiveKindOfMethod.Resource => _known.ReadResourceRequestParams,
                _ => _known.GetPromptRequestParams,
            };
            if (!KnownTypes.Is(((INamedTypeSymbol)type).TypeArguments[0], expected))
            {
                error = $"is not the request of a {method.KindName}; use RequestContext<{expected?.Name}>";
                return null;
            }

            return ParameterSource.RequestContext;
        }

        if (KnownTypes.Is(type, _known.Progress))
        {
            if (!KnownTypes.Is(((INamedTypeSymbol)type).TypeArguments[0], _known.ProgressNotificationValue))
            {
                error = "reports a value MCP progress notifications cannot carry; use IProgress<ProgressNotificationValue>";
                return null;
            }

            return ParameterSource.Progress;
        }

        if (KnownTypes.Is(type, _known.ServiceProvider))
        {
            return ParameterSource.Services;
        }

        if (KnownTypes.Is(type, _known.ClaimsPrincipal))
        {
            return ParameterSource.User;
        }

        if (KnownTypes.FindAttribute(parameter, _known.FromKeyedServicesAttribute) is not null)
        {
            return ParameterSource.KeyedService;
        }

        if (KnownTypes.FindAttribute(parameter, _known.FromServicesAttribute) is not null || KnownTypes.FindAttribute(parameter, _known.AspNetFromServicesAttribute) is not null)
        {
            return ParameterSource.Service;
        }

        return null;
    }

    private void BuildReturn(MethodModel model, Location? location)
    {
        var type = model.Method.ReturnType;
        var result = model.Return;
        var returnsNothing = false;
        if (KnownTypes.Is(type, _known.Task) || KnownTypes.Is(type, _known.ValueTask))
        {
            result.IsAsync = true;
            result.Kind = ResultKind.Void;
            returnsNothing = true;
        }
        else if (KnownTypes.Is(type, _known.TaskOfT) || KnownTypes.Is(type, _known.ValueTaskOfT))
        {
            result.IsAsync = true;
            type = ((INamedTypeSymbol)type).TypeArguments[0];
            result.Kind = Classify(model, type, location);
        }
        else if (type.SpecialType == SpecialType.System_Void)
        {
            result.Kind = ResultKind.Void;
            returnsNothing = true;
            if (model.Method.IsAsync)
            {
                // The generated primitive could not await it: the call would be answered before the work is done, and
                // an exception after the first await would be thrown on the thread pool and end the process.
                Fail(model, MmcpDiagnostics.UnsupportedReturnType, location, model.KindName, model.Method.Name, "void",
                    "is async void, so the call would be answered before the method finishes and an exception it throws after an await would end the process; return Task (or Task<T>) instead");
                return;
            }
        }
        else
        {
            result.Kind = Classify(model, type, location);
        }

        if (result.Kind != ResultKind.Void)
        {
            result.ResultType = type;
            result.Nullable = TypeShapes.IsNullable(type);
        }
        else if (returnsNothing && model.Kind != PrimitiveKindOfMethod.Tool)
        {
            Fail(model, MmcpDiagnostics.UnsupportedReturnType, location, model.KindName, model.Method.Name, model.Method.ReturnType.ToDisplayString(),
                model.Kind == PrimitiveKindOfMethod.Resource ? "returns nothing; a resource must return its contents (string, ResourceContents or ReadResourceResult)" : "returns nothing; a prompt must return its messages (string, PromptMessage or GetPromptResult)");
        }
    }

    private ResultKind Classify(MethodModel model, ITypeSymbol type, Location? location)
    {
        var element = EnumerableElement(type);
        switch (model.Kind)
        {
            case PrimitiveKindOfMethod.Tool:
                if (type.SpecialType == SpecialType.System_String)
                {
                    return ResultKind.Text;
                }

                if (KnownTypes.Is(type, _known.CallToolResult))
                {
                    return ResultKind.CallToolResult;
                }

                if (KnownTypes.DerivesFrom(type, _known.ContentBlock))
                {
                    return ResultKind.Content;
                }

                if (KnownTypes.DerivesFrom(element, _known.ContentBlock))
                {
                    return ResultKind.Contents;
                }

                if (KnownTypes.DerivesFrom(type, _known.AIContent))
                {
                    return ResultKind.AIContent;
                }

                if (KnownTypes.DerivesFrom(element, _known.AIContent))
                {
                    return ResultKind.AIContents;
                }

                var shape = Shapes.Get(type, out var error);
                if (shape is null)
                {
                    Fail(model, MmcpDiagnostics.UnsupportedReturnType, location, "tool", model.Method.Name, type.ToDisplayString(), error!);
                    return ResultKind.Void;
                }

                model.Return.Shape = shape;
                return ResultKind.Json;

            case PrimitiveKindOfMethod.Resource:
                if (type.SpecialType == SpecialType.System_String)
                {
                    return ResultKind.Text;
                }

                if (KnownTypes.Is(type, _known.ReadResourceResult))
                {
                    return ResultKind.ReadResourceResult;
                }

                if (KnownTypes.DerivesFrom(type, _known.ResourceContents))
                {
                    return ResultKind.ResourceContents;
                }

                if (KnownTypes.DerivesFrom(element, _known.ResourceContents))
                {
                    return ResultKind.ResourceContentsList;
                }

                if (element?.SpecialType == SpecialType.System_String)
                {
                    return ResultKind.Texts;
                }

                Fail(model, MmcpDiagnostics.UnsupportedReturnType, location, "resource", model.Method.Name, type.ToDisplayString(), "is not a resource result; return string, IEnumerable<string>, ResourceContents, IEnumerable<ResourceContents> or ReadResourceResult");
                return ResultKind.Void;

            default:
                if (type.SpecialType == SpecialType.System_String)
                {
                    return ResultKind.Text;
                }

                if (KnownTypes.Is(type, _known.GetPromptResult))
                {
                    return ResultKind.GetPromptResult;
                }

                if (KnownTypes.Is(type, _known.PromptMessage))
                {
                    return ResultKind.PromptMessage;
                }

                if (KnownTypes.Is(element, _known.PromptMessage))
                {
                    return ResultKind.PromptMessages;
                }

                if (KnownTypes.Is(type, _known.ChatMessage))
                {
                    return ResultKind.ChatMessage;
                }

                if (KnownTypes.Is(element, _known.ChatMessage))
                {
                    return ResultKind.ChatMessages;
                }

                Fail(model, MmcpDiagnostics.UnsupportedReturnType, location, "prompt", model.Method.Name, type.ToDisplayString(), "is not a prompt result; return string, PromptMessage, IEnumerable<PromptMessage>, ChatMessage, IEnumerable<ChatMessage> or GetPromptResult");
                return ResultKind.Void;
        }
    }

    private ITypeSymbol? EnumerableElement(ITypeSymbol type)
    {
        if (type.SpecialType == SpecialType.System_String)
        {
            return null;
        }

        if (type is IArrayTypeSymbol array)
        {
            return array.ElementType;
        }

        if (KnownTypes.Is(type, _known.IEnumerable))
        {
            return ((INamedTypeSymbol)type).TypeArguments[0];
        }

        return type.AllInterfaces.FirstOrDefault(i => KnownTypes.Is(i, _known.IEnumerable))?.TypeArguments[0];
    }

    private string? DescriptionOfReturn(IMethodSymbol method) =>
        method.GetReturnTypeAttributes().FirstOrDefault(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, _known.DescriptionAttribute)) is { } data
        && data.ConstructorArguments.Length == 1 && data.ConstructorArguments[0].Value is string text ? text : null;

    private void ReadMeta(MethodModel model)
    {
        if (_known.McpMetaAttribute is null)
        {
            return;
        }

        foreach (var data in model.Method.GetAttributes().Where(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, _known.McpMetaAttribute)))
        {
            if (data.ConstructorArguments.Length != 2 || data.ConstructorArguments[0].Value is not string name)
            {
                continue;
            }

            var json = data.NamedArguments.FirstOrDefault(n => n.Key == "JsonValue").Value.Value as string
                ?? JsonText.Literal(data.ConstructorArguments[1].Value)
                ?? "null";
            if (!model.Meta.Any(m => m.Key == name))
            {
                model.Meta.Add(new KeyValuePair<string, string>(name, json));
            }
        }
    }

    private void CheckDuplicates(ServerModel model)
    {
        // Resource URIs match ignoring case, and a template's variable names do not change what it matches:
        // 'notes://{id}' and 'NOTES://{name}' are one template, and a read would only ever reach the first.
        foreach (var group in model.Methods.Where(m => !m.Invalid).GroupBy(m => (m.Kind, Key: m.Kind == PrimitiveKindOfMethod.Resource ? TemplateShape(m.UriTemplate) : m.Name)))
        {
            var methods = group.ToList();
            for (var i = 1; i < methods.Count; i++)
            {
                if (group.Key.Kind == PrimitiveKindOfMethod.Resource)
                {
                    var same = string.Equals(methods[0].UriTemplate, methods[i].UriTemplate, StringComparison.Ordinal) ? string.Empty : $"it matches the same URIs as '{methods[0].UriTemplate}', so ";
                    Fail(methods[i], MmcpDiagnostics.DuplicateName, NameLocation(methods[i], "UriTemplate"), "resource URI template", methods[i].UriTemplate, methods[0].Method.Name, methods[i].Method.Name,
                        same + "a read would only reach the first: give one a different UriTemplate");
                }
                else
                {
                    Fail(methods[i], MmcpDiagnostics.DuplicateName, NameLocation(methods[i]), methods[i].KindName + " name", group.Key.Key, methods[0].Method.Name, methods[i].Method.Name,
                        "names must be unique within a server: set a different Name in the attribute");
                }
            }
        }
    }

    private static string? TemplateShape(string? template) =>
        template is null ? null : Regex.Replace(template, @"\{([+#./;?&]?)[^}]*\}", "{$1}").ToLowerInvariant();

    private void ChooseConstructor(ServerModel model)
    {
        var constructors = model.Type.InstanceConstructors
            .Where(c => !c.IsImplicitlyDeclared || c.Parameters.Length == 0)
            .Where(c => !(c.Parameters.Length == 1 && SymbolEqualityComparer.Default.Equals(c.Parameters[0].Type, model.Type))) // a record's copy constructor
            .ToList();
        var chosen = constructors.FirstOrDefault(c => KnownTypes.FindAttribute(c, _known.ActivatorUtilitiesConstructorAttribute) is not null)
            ?? constructors.Where(c => c.DeclaredAccessibility != Accessibility.Private || constructors.Count == 1).OrderByDescending(c => c.Parameters.Length).FirstOrDefault();
        if (chosen is null)
        {
            Report(MmcpDiagnostics.UnsupportedServerClass, model.Type.Locations.FirstOrDefault(), model.Type.Name, "it has instance tool methods but no constructor the generator can call");
            model.CanGenerate = false;
            return;
        }

        model.Constructor = chosen;
        foreach (var parameter in chosen.Parameters)
        {
            var source = KnownTypes.Is(parameter.Type, _known.ServiceProvider) ? ParameterSource.Services
                : KnownTypes.FindAttribute(parameter, _known.FromKeyedServicesAttribute) is not null ? ParameterSource.KeyedService
                : ParameterSource.Service;
            var service = new ParameterModel(parameter, source) { HasDefault = parameter.HasExplicitDefaultValue, Nullable = TypeShapes.IsNullable(parameter.Type) };
            if (source == ParameterSource.KeyedService)
            {
                var key = KnownTypes.FindAttribute(parameter, _known.FromKeyedServicesAttribute)!.ConstructorArguments.FirstOrDefault();
                service.ServiceKeyCode = key.IsNull ? "null" : Literals.Code(key.Value, TypeShapes.NameOf(key.Type!), key.Type!.IsValueType);
            }

            model.ConstructorParameters.Add(service);
        }

        model.IsDisposable = model.Type.AllInterfaces.Any(i => i.ToDisplayString() == "System.IDisposable");
        model.IsAsyncDisposable = model.Type.AllInterfaces.Any(i => i.ToDisplayString() == "System.IAsyncDisposable");
    }

    private static Location? ArgumentLocation(AttributeData attribute, int index)
    {
        if (attribute.ApplicationSyntaxReference?.GetSyntax() is AttributeSyntax syntax)
        {
            if (syntax.ArgumentList is { } list && list.Arguments.Count > index)
            {
                return list.Arguments[index].GetLocation();
            }

            return syntax.GetLocation();
        }

        return null;
    }

    private static Location? NameLocation(MethodModel model, string property = "Name")
    {
        if (model.Attribute.ApplicationSyntaxReference?.GetSyntax() is AttributeSyntax { ArgumentList: { } list })
        {
            var argument = list.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == property);
            if (argument is not null)
            {
                return argument.Expression.GetLocation();
            }
        }

        return model.Method.Locations.FirstOrDefault();
    }

    private static string? Str(Dictionary<string, TypedConstant> named, string key) => named.TryGetValue(key, out var value) ? value.Value as string : null;

    private static bool? Bool(Dictionary<string, TypedConstant> named, string key) => named.TryGetValue(key, out var value) && value.Value is bool b ? b : null;

    private void Fail(MethodModel model, DiagnosticDescriptor descriptor, Location? location, params object?[] args)
    {
        model.Invalid = true;
        Report(descriptor, location, args);
    }

    private void Report(DiagnosticDescriptor descriptor, Location? location, params object?[] args) =>
        _diagnostics.Add(Diagnostic.Create(descriptor, location, args));
}
