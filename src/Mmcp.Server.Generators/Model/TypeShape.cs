using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace Mmcp.Server.Generators.Model;

/// <summary>How a .NET type maps to JSON.</summary>
internal enum ShapeKind
{
    Primitive,
    Enum,
    NullableValue,
    Collection,
    Dictionary,
    Object,
    JsonElement,
    JsonNode,
    Any,
    Sdk,
}

/// <summary>The JSON scalar a primitive type maps to.</summary>
internal enum PrimitiveKind
{
    String,
    Boolean,
    Char,
    Byte,
    SByte,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,
    UInt64,
    Single,
    Double,
    Decimal,
    Guid,
    DateTime,
    DateTimeOffset,
    TimeSpan,
    DateOnly,
    TimeOnly,
    Uri,
    Bytes,
}

/// <summary>Which concrete collection the reader builds.</summary>
internal enum CollectionKind
{
    Array,
    List,
    HashSet,
}

/// <summary>The JSON shape of one type, with what the emitters need to read, write and describe it.</summary>
internal sealed class TypeShape
{
    public TypeShape(ITypeSymbol type, ShapeKind kind, string typeName, string id)
    {
        Type = type;
        Kind = kind;
        TypeName = typeName;
        Id = id;
    }

    public ITypeSymbol Type { get; }

    public ShapeKind Kind { get; }

    /// <summary>The fully qualified C# type name (with <c>global::</c>).</summary>
    public string TypeName { get; }

    /// <summary>A unique identifier used in generated method names.</summary>
    public string Id { get; }

    public PrimitiveKind Primitive { get; set; }

    public CollectionKind Collection { get; set; }

    /// <summary>The element (collections, dictionary values) or underlying type (nullable value types).</summary>
    public TypeShape? Element { get; set; }

    /// <summary>Whether collection elements or dictionary values may be null.</summary>
    public bool ElementNullable { get; set; }

    public List<EnumMemberShape> EnumMembers { get; } = [];

    public string EnumUnderlyingType { get; set; } = "int";

    /// <summary>Whether the enum is <c>[Flags]</c>: its JSON values are member names separated by commas ("Read, Write"), as System.Text.Json reads and writes them.</summary>
    public bool IsFlags { get; set; }

    public List<PropertyShape> Properties { get; } = [];

    /// <summary>The constructor the reader calls, or <see langword="null"/> when the type cannot be read.</summary>
    public IMethodSymbol? Constructor { get; set; }

    /// <summary>Why the type cannot be read from JSON, or <see langword="null"/>.</summary>
    public string? ReadError { get; set; }

    public string? Description { get; set; }

    public bool IsValueType => Type.IsValueType;

    /// <summary>Whether the JSON form is an object (so it can be structured content as is).</summary>
    public bool IsJsonObject => Kind is ShapeKind.Object or ShapeKind.Dictionary;
}

/// <summary>One enum member and its JSON name.</summary>
internal sealed record EnumMemberShape(string Name, string JsonName, string ValueLiteral);

/// <summary>One property of an object shape.</summary>
internal sealed class PropertyShape
{
    public PropertyShape(IPropertySymbol symbol, string jsonName, TypeShape shape, bool nullable)
    {
        Symbol = symbol;
        Name = symbol.Name;
        JsonName = jsonName;
        Shape = shape;
        Nullable = nullable;
    }

    public IPropertySymbol Symbol { get; }

    public string Name { get; }

    public string JsonName { get; }

    public TypeShape Shape { get; }

    public bool Nullable { get; }

    public string? Description { get; set; }

    /// <summary>The constructor parameter bound to this property, or -1.</summary>
    public int ConstructorIndex { get; set; } = -1;

    /// <summary>Whether the reader can assign the property after construction (a public <c>set</c> or <c>init</c>).</summary>
    public bool Settable { get; set; }

    public bool InitOnly { get; set; }

    /// <summary>Whether input JSON must contain the property (constructor parameter without default, or <c>required</c>).</summary>
    public bool Required { get; set; }

    /// <summary>The C# value used when an optional property is absent, or <see langword="null"/> to leave it unassigned.</summary>
    public string? DefaultCode { get; set; }

    /// <summary>The JSON default shown in the schema, or <see langword="null"/>.</summary>
    public string? DefaultJson { get; set; }

    /// <summary>Whether input JSON binds this property.</summary>
    public bool Bindable => ConstructorIndex >= 0 || Settable;
}
