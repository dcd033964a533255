using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Mmcp.Server.Generators.Docs;
using Mmcp.Server.Generators.Naming;
using Mmcp.Server.Generators.Schema;

namespace Mmcp.Server.Generators.Model;

/// <summary>Builds and caches the JSON shapes of the types a server's methods take and return.</summary>
internal sealed class TypeShapes
{
    public static readonly SymbolDisplayFormat FullName = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    private readonly KnownTypes _known;
    private readonly CancellationToken _cancellationToken;
    private readonly Dictionary<ITypeSymbol, TypeShape> _shapes = new(SymbolEqualityComparer.IncludeNullability);
    private readonly Dictionary<ITypeSymbol, string> _errors = new(SymbolEqualityComparer.IncludeNullability);
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);

    public TypeShapes(KnownTypes known, CancellationToken cancellationToken)
    {
        _known = known;
        _cancellationToken = cancellationToken;
    }

    public IEnumerable<TypeShape> All => _shapes.Values;

    /// <summary>Whether a usage of <paramref name="type"/> admits null: <c>T?</c> for reference types, or <c>Nullable&lt;T&gt;</c>.</summary>
    /// <remarks>Reference types from code compiled without nullable annotations count as nullable.</remarks>
    public static bool IsNullable(ITypeSymbol type) =>
        (type.IsReferenceType && type.NullableAnnotation != NullableAnnotation.NotAnnotated) || type.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T;

    public static string NameOf(ITypeSymbol type) => type.ToDisplayString(FullName);

    /// <summary>Returns the shape of <paramref name="type"/>, or explains (as the end of a sentence) why it has none.</summary>
    public TypeShape? Get(ITypeSymbol type, out string? error)
    {
        _cancellationToken.ThrowIfCancellationRequested();
        var key = type.IsReferenceType ? type.WithNullableAnnotation(NullableAnnotation.NotAnnotated) : type;
        if (_shapes.TryGetValue(key, out var cached))
        {
            error = null;
            return cached;
        }

        if (_errors.TryGetValue(key, out error))
        {
            return null;
        }

        var shape = Create(key, out error);
        if (shape is null)
        {
            _errors[key] = error!;
        }

        return shape;
    }

    /// <summary>Explains why values of <paramref name="shape"/> cannot be read from JSON arguments, or returns <see langword="null"/>.</summary>
    public static string? InputError(TypeShape shape) => InputError(shape, new HashSet<TypeShape>());

    /// <summary>Formats a parameter or property default as C#.</summary>
    public static string DefaultCode(ITypeSymbol type, object? value)
    {
        if (value is not null && type.TypeKind == TypeKind.Enum)
        {
            return "((" + NameOf(type) + ")(" + Literals.Code(value, "int", true) + "))";
        }

        if (value is not null && type.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T && ((INamedTypeSymbol)type).TypeArguments[0] is { TypeKind: TypeKind.Enum } inner)
        {
            return "((" + NameOf(inner) + ")(" + Literals.Code(value, "int", true) + "))";
        }

        if (value is null && !type.IsValueType)
        {
            // 'string text = null!' declares a non-nullable parameter with a null default: repeat the null-forgiving
            // operator, or the generated code warns (CS8600/CS8604/CS8625) where the app cannot fix it.
            return type.NullableAnnotation == NullableAnnotation.Annotated ? "null" : "null!";
        }

        return Literals.Code(value, NameOf(type), type.IsValueType && type.OriginalDefinition.SpecialType != SpecialType.System_Nullable_T);
    }

    /// <summary>Formats a parameter or property default as JSON for the schema, or returns <see langword="null"/>.</summary>
    public string? DefaultJson(ITypeSymbol type, object? value)
    {
        var enumType = type.TypeKind == TypeKind.Enum ? (INamedTypeSymbol)type
            : type.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T && ((INamedTypeSymbol)type).TypeArguments[0] is INamedTypeSymbol { TypeKind: TypeKind.Enum } e ? e : null;
        if (value is not null && enumType is not null)
        {
            var fields = enumType.GetMembers().OfType<IFieldSymbol>().Where(f => f.HasConstantValue).ToList();
            var member = fields.FirstOrDefault(f => Equals(f.ConstantValue, value));
            if (member is null && enumType.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == "System.FlagsAttribute"))
            {
                // A combination of flags, named as the generated writer (and System.Text.Json) names it.
                var rest = FlagBits(value);
                var names = new List<string>();
                foreach (var field in fields.Where(f => FlagBits(f.ConstantValue) != 0).OrderByDescending(f => FlagBits(f.ConstantValue)))
                {
                    var bits = FlagBits(field.ConstantValue);
                    if ((rest & bits) == bits)
                    {
                        names.Insert(0, EnumJsonName(field));
                        rest &= ~bits;
                    }
                }

                return rest == 0 && names.Count > 0 ? JsonText.Quote(string.Join(", ", names)) : JsonText.Literal(value);
            }

            return member is null ? JsonText.Literal(value) : JsonText.Quote(EnumJsonName(member));
        }

        if (value is null && type.IsValueType && type.OriginalDefinition.SpecialType != SpecialType.System_Nullable_T)
        {
            return null; // default(struct): no literal worth showing
        }

        return JsonText.Literal(value);
    }

    private static ulong FlagBits(object? value) => value switch
    {
        ulong u => u,
        uint u => u,
        ushort u => u,
        byte u => u,
        _ => unchecked((ulong)Convert.ToInt64(value, CultureInfo.InvariantCulture)),
    };

    private static string? InputError(TypeShape shape, HashSet<TypeShape> visited)
    {
        if (!visited.Add(shape))
        {
            return null;
        }

        if (shape.ReadError is not null)
        {
            return shape.ReadError;
        }

        if (shape.Element is not null && InputError(shape.Element, visited) is { } elementError)
        {
            return elementError;
        }

        foreach (var property in shape.Properties)
        {
            if (property.Bindable && InputError(property.Shape, visited) is { } propertyError)
            {
                return propertyError;
            }
        }

        return null;
    }

    private TypeShape? Create(ITypeSymbol type, out string? error)
    {
        error = null;
        switch (type.SpecialType)
        {
            case SpecialType.System_String: return Primitive(type, PrimitiveKind.String);
            case SpecialType.System_Boolean: return Primitive(type, PrimitiveKind.Boolean);
            case SpecialType.System_Char: return Primitive(type, PrimitiveKind.Char);
            case SpecialType.System_Byte: return Primitive(type, PrimitiveKind.Byte);
            case SpecialType.System_SByte: return Primitive(type, PrimitiveKind.SByte);
            case SpecialType.System_Int16: return Primitive(type, PrimitiveKind.Int16);
            case SpecialType.System_UInt16: return Primitive(type, PrimitiveKind.UInt16);
            case SpecialType.System_Int32: return Primitive(type, PrimitiveKind.Int32);
            case SpecialType.System_UInt32: return Primitive(type, PrimitiveKind.UInt32);
            case SpecialType.System_Int64: return Primitive(type, PrimitiveKind.Int64);
            case SpecialType.System_UInt64: return Primitive(type, PrimitiveKind.UInt64);
            case SpecialType.System_Single: return Primitive(type, PrimitiveKind.Single);
            case SpecialType.System_Double: return Primitive(type, PrimitiveKind.Double);
            case SpecialType.System_Decimal: return Primitive(type, PrimitiveKind.Decimal);
            case SpecialType.System_DateTime: return Primitive(type, PrimitiveKind.DateTime);
            case SpecialType.System_Object: return Register(new TypeShape(type, ShapeKind.Any, NameOf(type), "Any"));
        }

        foreach (var (known, kind) in new[]
        {
            (_known.Guid, PrimitiveKind.Guid), (_known.DateTimeOffset, PrimitiveKind.DateTimeOffset), (_known.TimeSpan, PrimitiveKind.TimeSpan),
            (_known.DateOnly, PrimitiveKind.DateOnly), (_known.TimeOnly, PrimitiveKind.TimeOnly), (_known.Uri, PrimitiveKind.Uri),
        })
        {
            if (KnownTypes.Is(type, known))
            {
                return Primitive(type, kind);
            }
        }

        if (KnownTypes.Is(type, _known.JsonElement))
        {
            return Register(new TypeShape(type, ShapeKind.JsonElement, NameOf(type), "JsonElement"));
        }

        if (KnownTypes.DerivesFrom(type, _known.JsonNode))
        {
            return Register(new TypeShape(type, ShapeKind.JsonNode, NameOf(type), NewId(type)));
        }

        if (type is IArrayTypeSymbol array)
        {
            if (array.Rank != 1)
            {
                error = "is a multi-dimensional array; use a jagged array (T[][]) or a list of lists";
                return null;
            }

            if (array.ElementType.SpecialType == SpecialType.System_Byte)
            {
                return Primitive(type, PrimitiveKind.Bytes);
            }

            return Sequence(type, array.ElementType, CollectionKind.Array, out error);
        }

        if (type is not INamedTypeSymbol named)
        {
            error = type.TypeKind == TypeKind.TypeParameter
                ? "is a generic type parameter; JSON Schemas are made at compile time, so use a concrete type"
                : "has no JSON representation";
            return null;
        }

        if (named.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T)
        {
            var inner = Get(named.TypeArguments[0], out error);
            if (inner is null)
            {
                return null;
            }

            return Register(new TypeShape(type, ShapeKind.NullableValue, NameOf(type), NewId(type)) { Element = inner });
        }

        if (named.TypeKind == TypeKind.Enum)
        {
            return Enum(named);
        }

        if (IsSdkType(named))
        {
            return Register(new TypeShape(type, ShapeKind.Sdk, NameOf(type), NewId(type)));
        }

        if (named.IsGenericType && named.TypeArguments.Length == 1)
        {
            var element = named.TypeArguments[0];
            if (KnownTypes.Is(named, _known.List) || KnownTypes.Is(named, _known.IList) || KnownTypes.Is(named, _known.ICollection)
                || KnownTypes.Is(named, _known.IEnumerable) || KnownTypes.Is(named, _known.IReadOnlyList) || KnownTypes.Is(named, _known.IReadOnlyCollection))
            {
                return Sequence(type, element, CollectionKind.List, out error);
            }

            if (KnownTypes.Is(named, _known.HashSet) || KnownTypes.Is(named, _known.ISet) || KnownTypes.Is(named, _known.IReadOnlySet))
            {
                return Sequence(type, element, CollectionKind.HashSet, out error);
            }

            if (KnownTypes.Is(named, _known.AsyncEnumerable))
            {
                error = "is an asynchronous stream; MCP results are sent whole, so collect the items into a list";
                return null;
            }
        }

        if (named.IsGenericType && named.TypeArguments.Length == 2
            && (KnownTypes.Is(named, _known.Dictionary) || KnownTypes.Is(named, _known.IDictionary) || KnownTypes.Is(named, _known.IReadOnlyDictionary)))
        {
            if (named.TypeArguments[0].SpecialType != SpecialType.System_String)
            {
                error = "is a dictionary whose keys are not strings; JSON object keys are strings, so use Dictionary<string, T>";
                return null;
            }

            var value = Get(named.TypeArguments[1], out error);
            if (value is null)
            {
                return null;
            }

            return Register(new TypeShape(type, ShapeKind.Dictionary, NameOf(type), NewId(type)) { Element = value, ElementNullable = IsNullable(named.TypeArguments[1]) });
        }

        if (named.IsTupleType)
        {
            error = "is a tuple, whose elements are fields, not properties, so it has no JSON form; use a record with named properties, such as record Pair(int A, string B)";
            return null;
        }

        if (ImplementsEnumerable(named))
        {
            error = "is a collection type the generator does not know; use T[], List<T>, IReadOnlyList<T>, HashSet<T> or Dictionary<string, T>";
            return null;
        }

        if (named.TypeKind == TypeKind.Delegate)
        {
            error = "is a delegate, which has no JSON representation";
            return null;
        }

        if (named.IsRefLikeType)
        {
            error = "is a ref struct, which cannot be stored or serialized; use an array or string";
            return null;
        }

        if (named.TypeKind == TypeKind.Interface || named.IsAbstract)
        {
            error = $"is {(named.TypeKind == TypeKind.Interface ? "an interface" : "an abstract class")}, which cannot be created from JSON; use a concrete type, or mark the parameter [FromServices] if it comes from dependency injection";
            return null;
        }

        if (named.IsStatic)
        {
            error = "is a static class";
            return null;
        }

        if (named.IsUnboundGenericType || named.TypeArguments.Any(a => a.TypeKind == TypeKind.TypeParameter))
        {
            error = "is an open generic type; JSON Schemas are made at compile time, so use a concrete type";
            return null;
        }

        return ObjectShape(named, out error);
    }

    private TypeShape Primitive(ITypeSymbol type, PrimitiveKind kind) =>
        Register(new TypeShape(type, ShapeKind.Primitive, NameOf(type), kind.ToString()) { Primitive = kind });

    private TypeShape? Sequence(ITypeSymbol type, ITypeSymbol elementType, CollectionKind kind, out string? error)
    {
        var element = Get(elementType, out error);
        if (element is null)
        {
            return null;
        }

        return Register(new TypeShape(type, ShapeKind.Collection, NameOf(type), NewId(type)) { Collection = kind, Element = element, ElementNullable = IsNullable(elementType) });
    }

    private TypeShape Enum(INamedTypeSymbol type)
    {
        var shape = new TypeShape(type, ShapeKind.Enum, NameOf(type), NewId(type))
        {
            EnumUnderlyingType = type.EnumUnderlyingType?.ToDisplayString() ?? "int",
            IsFlags = type.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == "System.FlagsAttribute"),
            Description = Describe(type),
        };
        foreach (var field in type.GetMembers().OfType<IFieldSymbol>())
        {
            if (field.HasConstantValue)
            {
                shape.EnumMembers.Add(new EnumMemberShape(field.Name, EnumJsonName(field), Convert.ToString(field.ConstantValue, CultureInfo.InvariantCulture)!));
            }
        }

        return Register(shape);
    }

    private string EnumJsonName(IFieldSymbol field) =>
        KnownTypes.FindAttribute(field, _known.JsonStringEnumMemberNameAttribute) is { } data && data.ConstructorArguments.Length == 1 && data.ConstructorArguments[0].Value is string name
            ? name
            : field.Name;

    private TypeShape? ObjectShape(INamedTypeSymbol type, out string? error)
    {
        error = null;
        var shape = Register(new TypeShape(type, ShapeKind.Object, NameOf(type), NewId(type)) { Description = Describe(type) });
        var typeDocs = DocComment.For(type, _cancellationToken);

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var t = type; t is not null && t.SpecialType != SpecialType.System_Object && t.SpecialType != SpecialType.System_ValueType; t = t.BaseType)
        {
            foreach (var property in t.GetMembers().OfType<IPropertySymbol>())
            {
                if (property.IsStatic || property.IsIndexer || property.DeclaredAccessibility != Accessibility.Public
                    || property.GetMethod is not { DeclaredAccessibility: Accessibility.Public } || !seen.Add(property.Name)
                    || KnownTypes.FindAttribute(property, _known.JsonIgnoreAttribute) is not null
                    || (property.IsImplicitlyDeclared && property.Name == "EqualityContract"))
                {
                    continue;
                }

                var propertyShape = Get(property.Type, out var propertyError);
                if (propertyShape is null)
                {
                    _shapes.Remove(type);
                    error = $"has a property '{property.Name}' whose type '{property.Type.ToDisplayString()}' {propertyError}";
                    return null;
                }

                var jsonName = KnownTypes.FindAttribute(property, _known.JsonPropertyNameAttribute) is { } jsonNameData && jsonNameData.ConstructorArguments.Length == 1 && jsonNameData.ConstructorArguments[0].Value is string explicitName
                    ? explicitName
                    : NamePolicies.CamelCase(property.Name);
                var model = new PropertyShape(property, jsonName, propertyShape, IsNullable(property.Type))
                {
                    Description = _known.DescriptionOf(property) ?? DocComment.For(property, _cancellationToken).Summary ?? typeDocs.Parameter(property.Name),
                    Settable = property.SetMethod is { DeclaredAccessibility: Accessibility.Public },
                    InitOnly = property.SetMethod is { IsInitOnly: true },
                    Required = property.IsRequired,
                };
                shape.Properties.Add(model);
            }
        }

        if (shape.Properties.Count == 0)
        {
            _shapes.Remove(type);
            error = "has no public properties, so it has no JSON form; if it is a service, mark the parameter [FromServices]";
            return null;
        }

        // Arguments are matched to properties by JSON name, ignoring case, as System.Text.Json's web defaults do; two
        // properties with one name would leave one of them never read (System.Text.Json refuses such a type).
        var byJsonName = new Dictionary<string, PropertyShape>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in shape.Properties)
        {
            if (byJsonName.TryGetValue(property.JsonName, out var first))
            {
                _shapes.Remove(type);
                error = $"has two properties with the JSON name '{property.JsonName}' ('{first.Name}' and '{property.Name}'; names are matched ignoring case); rename one with [JsonPropertyName] or leave one out with [JsonIgnore]";
                return null;
            }

            byJsonName.Add(property.JsonName, property);
        }

        ChooseConstructor(type, shape);
        return shape;
    }

    private void ChooseConstructor(INamedTypeSymbol type, TypeShape shape)
    {
        var constructors = type.InstanceConstructors.Where(c => c.DeclaredAccessibility == Accessibility.Public && !IsCopyConstructor(c, type)).ToList();
        var chosen = constructors.FirstOrDefault(c => KnownTypes.FindAttribute(c, _known.JsonConstructorAttribute) is not null);
        if (chosen is null)
        {
            var parameterized = constructors.Where(c => c.Parameters.Length > 0).ToList();
            var parameterless = constructors.FirstOrDefault(c => c.Parameters.Length == 0);
            if (type.IsValueType && parameterized.Count == 1)
            {
                chosen = parameterized[0];
            }
            else if (parameterless is not null)
            {
                chosen = parameterless;
            }
            else if (parameterized.Count == 1)
            {
                chosen = parameterized[0];
            }
            else
            {
                shape.ReadError = constructors.Count == 0
                    ? $"cannot be created from JSON: '{type.Name}' has no public constructor"
                    : $"cannot be created from JSON: '{type.Name}' has several public constructors; mark one [JsonConstructor]";
                return;
            }
        }

        shape.Constructor = chosen;
        for (var i = 0; i < chosen.Parameters.Length; i++)
        {
            var parameter = chosen.Parameters[i];
            var property = shape.Properties.FirstOrDefault(p => string.Equals(p.Name, parameter.Name, StringComparison.OrdinalIgnoreCase));
            if (property is null)
            {
                shape.ReadError = $"cannot be created from JSON: the constructor parameter '{parameter.Name}' of '{type.Name}' has no public property of the same name";
                return;
            }

            property.ConstructorIndex = i;
            property.Required = !parameter.HasExplicitDefaultValue;
            property.Description ??= _known.DescriptionOf(parameter);
            if (parameter.HasExplicitDefaultValue)
            {
                property.DefaultCode = DefaultCode(parameter.Type, parameter.ExplicitDefaultValue);
                property.DefaultJson = DefaultJson(parameter.Type, parameter.ExplicitDefaultValue);
            }
        }

        foreach (var property in shape.Properties.Where(p => p.ConstructorIndex < 0 && p.InitOnly && !p.Required))
        {
            // An init-only property can only be assigned in the object initializer, so when JSON omits it the reader
            // must repeat the declared initializer; only a constant one can be repeated.
            var initializer = property.Symbol.DeclaringSyntaxReferences
                .Select(r => r.GetSyntax(_cancellationToken))
                .OfType<PropertyDeclarationSyntax>()
                .Select(p => p.Initializer?.Value)
                .FirstOrDefault(v => v is not null);
            if (initializer is null)
            {
                property.DefaultCode = property.Shape.IsValueType && property.Shape.Kind != ShapeKind.NullableValue ? "default" : "default!";
                continue;
            }

            var model = _known.Compilation.GetSemanticModel(initializer.SyntaxTree);
            var constant = model.GetConstantValue(initializer, _cancellationToken);
            if (!constant.HasValue)
            {
                shape.ReadError = $"cannot be created from JSON: the init-only property '{property.Name}' of '{type.Name}' has a non-constant initializer, which the reader cannot repeat when the property is absent; make it settable ({{ get; set; }}) or a constructor parameter";
                return;
            }

            property.DefaultCode = DefaultCode(property.Symbol.Type, constant.Value);
            property.DefaultJson = DefaultJson(property.Symbol.Type, constant.Value);
        }

        if (!shape.Properties.Any(p => p.Bindable))
        {
            // Only get-only properties and a parameterless constructor (System.Version, BigInteger): every argument
            // would arrive as an empty object, whatever the caller sent.
            shape.ReadError = $"cannot be created from JSON: '{type.Name}' has no property that JSON can set (a public setter, an init accessor or a constructor parameter), so every value would be empty; use a type with settable properties or a constructor whose parameters match them (a string for a value such as a version number), or mark the parameter [FromServices] if it comes from dependency injection";
        }
    }

    private static bool IsCopyConstructor(IMethodSymbol constructor, INamedTypeSymbol type) =>
        type.IsRecord && constructor.Parameters.Length == 1 && SymbolEqualityComparer.Default.Equals(constructor.Parameters[0].Type, type);

    private string? Describe(ISymbol symbol) => _known.DescriptionOf(symbol) ?? DocComment.For(symbol, _cancellationToken).Summary;

    private static bool IsSdkType(INamedTypeSymbol type)
    {
        var ns = type.ContainingNamespace?.ToDisplayString();
        return ns is "ModelContextProtocol.Protocol" or "Microsoft.Extensions.AI";
    }

    private bool ImplementsEnumerable(INamedTypeSymbol type) =>
        type.SpecialType != SpecialType.System_String && type.AllInterfaces.Any(i => i.OriginalDefinition.SpecialType == SpecialType.System_Collections_IEnumerable || KnownTypes.Is(i, _known.IEnumerable));

    private TypeShape Register(TypeShape shape)
    {
        _shapes[shape.Type] = shape;
        return shape;
    }

    private string NewId(ITypeSymbol type)
    {
        var sb = new StringBuilder();
        var display = type is IArrayTypeSymbol array ? array.ElementType.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat) + "_Array" : type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat);
        foreach (var c in display)
        {
            if (char.IsLetterOrDigit(c))
            {
                sb.Append(c);
            }
            else if (sb.Length > 0 && sb[sb.Length - 1] != '_')
            {
                sb.Append('_');
            }
        }

        var baseId = sb.ToString().Trim('_');
        var id = baseId;
        for (var i = 2; !_ids.Add(id); i++)
        {
            id = baseId + i.ToString(CultureInfo.InvariantCulture);
        }

        return id;
    }
}
