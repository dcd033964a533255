using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Mmcp.Server.Generators.Model;
using Mmcp.Server.Generators.Schema;

namespace Mmcp.Server.Generators.Emit;

/// <summary>
/// Recreates attributes as <c>new Attr(...) { ... }</c> expressions, so a primitive's <c>Metadata</c> carries the same
/// attribute instances the SDK's reflection would find (request filters and authorization read them), without reflection.
/// </summary>
internal static class AttributeEmitter
{
    public static string? Create(AttributeData attribute, Compilation compilation)
    {
        var type = attribute.AttributeClass;
        if (type is null || type.TypeKind == TypeKind.Error || !compilation.IsSymbolAccessibleWithin(type, compilation.Assembly)
            || attribute.AttributeConstructor is not { } constructor || !compilation.IsSymbolAccessibleWithin(constructor, compilation.Assembly))
        {
            return null;
        }

        var arguments = new List<string>();
        foreach (var argument in attribute.ConstructorArguments)
        {
            if (Value(argument) is not { } code)
            {
                return null;
            }

            arguments.Add(code);
        }

        var initializers = new List<string>();
        foreach (var named in attribute.NamedArguments)
        {
            if (Value(named.Value) is not { } code)
            {
                return null;
            }

            initializers.Add(Identifiers.Escape(named.Key) + " = " + code);
        }

        var expression = $"new {TypeShapes.NameOf(type)}({string.Join(", ", arguments)})";
        return initializers.Count == 0 ? expression : expression + " { " + string.Join(", ", initializers) + " }";
    }

    private static string? Value(TypedConstant constant)
    {
        if (constant.IsNull)
        {
            return constant.Type is null ? "null" : $"default({TypeShapes.NameOf(constant.Type)})";
        }

        switch (constant.Kind)
        {
            case TypedConstantKind.Primitive:
                return Literals.Code(constant.Value, TypeShapes.NameOf(constant.Type!), constant.Type!.IsValueType);
            case TypedConstantKind.Enum:
                return TypeShapes.DefaultCode(constant.Type!, constant.Value);
            case TypedConstantKind.Type:
                return constant.Value is ITypeSymbol t && t.TypeKind != TypeKind.Error ? $"typeof({t.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)})" : null;
            case TypedConstantKind.Array:
                var element = ((IArrayTypeSymbol)constant.Type!).ElementType;
                var items = constant.Values.Select(Value).ToList();
                return items.Any(i => i is null) ? null : $"new {TypeShapes.NameOf(element)}[] {{ {string.Join(", ", items)} }}";
            default:
                return null;
        }
    }
}
