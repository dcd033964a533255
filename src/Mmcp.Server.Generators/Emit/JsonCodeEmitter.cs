using System.Collections.Generic;
using System.Linq;
using Mmcp.Server.Generators.Model;
using Mmcp.Server.Generators.Schema;

namespace Mmcp.Server.Generators.Emit;

/// <summary>
/// Emits reflection-free JSON readers (arguments → .NET values, with errors that name the argument path) and writers
/// (results → JSON) for the shapes a server uses, as static methods of a nested <c>__MmcpJson</c> class.
/// </summary>
internal sealed class JsonCodeEmitter
{
    public const string Json = "global::Mmcp.Server.Runtime.McpJson";
    private const string Writer = "global::System.Text.Json.Utf8JsonWriter";
    private const string Element = "global::System.Text.Json.JsonElement";

    private readonly List<TypeShape> _readers = [];
    private readonly List<TypeShape> _writers = [];
    private readonly HashSet<TypeShape> _readerSet = [];
    private readonly HashSet<TypeShape> _writerSet = [];

    public bool IsEmpty => _readers.Count == 0 && _writers.Count == 0;

    public static string TypeRef(TypeShape shape, bool nullable) => nullable && !shape.IsValueType ? shape.TypeName + "?" : shape.TypeName;

    /// <summary>An expression reading <paramref name="element"/> as <paramref name="shape"/>; null JSON is allowed only when <paramref name="nullable"/>.</summary>
    /// <param name="shape">The shape.</param>
    /// <param name="nullable">Whether null is a valid value.</param>
    /// <param name="element">The JSON element expression (a simple name; it is evaluated more than once).</param>
    /// <param name="path">The argument path expression, for errors.</param>
    /// <param name="knownNotNull">Whether the caller already checked that the element is not null.</param>
    public string ReadExpression(TypeShape shape, bool nullable, string element, string path, bool knownNotNull = false)
    {
        var target = shape.Kind == ShapeKind.NullableValue ? shape.Element! : shape;
        var inner = ReadInner(target, element, path);
        if (knownNotNull)
        {
            return inner;
        }

        if (shape.Kind == ShapeKind.NullableValue)
        {
            return $"({Json}.IsNull({element}) ? default({shape.TypeName}) : {inner})";
        }

        if (shape.Kind == ShapeKind.JsonElement)
        {
            return inner;
        }

        if (nullable && !shape.IsValueType)
        {
            return $"({Json}.IsNull({element}) ? default({shape.TypeName}?) : {inner})";
        }

        return shape.IsValueType ? inner : $"({Json}.IsNull({element}) ? throw {Json}.NullValue({path}) : {inner})";
    }

    /// <summary>Statements writing <paramref name="value"/> (a simple expression) as <paramref name="shape"/>.</summary>
    /// <param name="shape">The shape.</param>
    /// <param name="value">The value expression (a simple name; it is evaluated more than once).</param>
    /// <param name="depth">The nesting depth expression.</param>
    /// <param name="knownNotNull">Whether the caller already checked that the value is not null.</param>
    public string WriteStatement(TypeShape shape, string value, string depth, bool knownNotNull = false)
    {
        if (shape.Kind == ShapeKind.NullableValue)
        {
            return $"if ({value}.HasValue) {{ {WriteInner(shape.Element!, value + ".Value", depth)} }} else {{ __w.WriteNullValue(); }}";
        }

        // Reference types are checked whatever their annotation: a null in a non-nullable slot is written as null, not a crash.
        var inner = WriteInner(shape, value, depth);
        return !shape.IsValueType && !knownNotNull ? $"if ({value} is null) {{ __w.WriteNullValue(); }} else {{ {inner} }}" : inner;
    }

    public void Emit(SourceWriter w)
    {
        if (IsEmpty)
        {
            return;
        }

        w.Line("[global::System.CodeDom.Compiler.GeneratedCode(\"Mmcp.Server.Generators\", \"1.0\")]");
        w.Open("private static class __MmcpJson");
        var first = true;
        for (var i = 0; i < _readers.Count; i++)
        {
            EmitReader(w, _readers[i], ref first);
        }

        for (var i = 0; i < _writers.Count; i++)
        {
            EmitWriter(w, _writers[i], ref first);
        }

        w.Close();
    }

    private string ReadInner(TypeShape shape, string element, string path)
    {
        switch (shape.Kind)
        {
            case ShapeKind.Primitive:
                return $"{Json}.Read{shape.Primitive}({element}, {path})";
            case ShapeKind.JsonElement:
                return $"{Json}.ReadElement({element})";
            case ShapeKind.JsonNode:
                return $"{Json}.ReadNode<{shape.TypeName}>({element}, {path})";
            case ShapeKind.Any:
                return $"{Json}.ReadAny({element})";
            case ShapeKind.Sdk:
                return $"{Json}.ReadSdk<{shape.TypeName}>({element}, {path})";
            default:
                if (_readerSet.Add(shape))
                {
                    _readers.Add(shape);
                }

                return $"__MmcpJson.Read_{shape.Id}({element}, {path})";
        }
    }

    private string WriteInner(TypeShape shape, string value, string depth)
    {
        switch (shape.Kind)
        {
            case ShapeKind.Primitive:
                return shape.Primitive switch
                {
                    PrimitiveKind.String or PrimitiveKind.Guid or PrimitiveKind.DateTime or PrimitiveKind.DateTimeOffset => $"__w.WriteStringValue({value});",
                    PrimitiveKind.Boolean => $"__w.WriteBooleanValue({value});",
                    PrimitiveKind.Byte or PrimitiveKind.SByte or PrimitiveKind.Int16 or PrimitiveKind.UInt16 => $"__w.WriteNumberValue((int){value});",
                    PrimitiveKind.Int32 or PrimitiveKind.UInt32 or PrimitiveKind.Int64 or PrimitiveKind.UInt64 or PrimitiveKind.Decimal => $"__w.WriteNumberValue({value});",
                    PrimitiveKind.Bytes => $"__w.WriteBase64StringValue({value});",
                    _ => $"{Json}.Write{shape.Primitive}(__w, {value});",
                };
            case ShapeKind.JsonElement:
            case ShapeKind.JsonNode:
                return $"{value}.WriteTo(__w);";
            case ShapeKind.Any:
                return $"{Json}.WriteAny(__w, {value});";
            case ShapeKind.Sdk:
                return $"{Json}.WriteSdk<{shape.TypeName}>(__w, {value});";
            case ShapeKind.NullableValue:
                return WriteStatement(shape, value, depth);
            default:
                if (_writerSet.Add(shape))
                {
                    _writers.Add(shape);
                }

                return $"__MmcpJson.Write_{shape.Id}(__w, {value}, {depth});";
        }
    }

    private void EmitReader(SourceWriter w, TypeShape shape, ref bool first)
    {
        Separate(w, ref first);
        switch (shape.Kind)
        {
            case ShapeKind.Enum:
                EmitEnumReader(w, shape);
                break;
            case ShapeKind.Collection:
                EmitCollectionReader(w, shape);
                break;
            case ShapeKind.Dictionary:
                EmitDictionaryReader(w, shape);
                break;
            case ShapeKind.Object:
                EmitObjectReader(w, shape);
                break;
        }
    }

    private static void EmitEnumReader(SourceWriter w, TypeShape shape)
    {
        if (shape.IsFlags)
        {
            EmitFlagsReader(w, shape);
            return;
        }

        w.Open($"internal static {shape.TypeName} Read_{shape.Id}({Element} e, string path)");
        w.Open("if (e.ValueKind == global::System.Text.Json.JsonValueKind.String)");
        w.Line("var __s = e.GetString();");
        foreach (var member in shape.EnumMembers)
        {
            w.Line($"if (string.Equals(__s, {JsonText.Quote(member.JsonName)}, global::System.StringComparison.OrdinalIgnoreCase)) return {shape.TypeName}.{Identifiers.Escape(member.Name)};");
        }

        w.Close();
        var unsigned = shape.EnumUnderlyingType is "ulong" or "uint" or "ushort" or "byte";
        w.Open($"else if (e.ValueKind == global::System.Text.Json.JsonValueKind.Number && e.TryGet{(unsigned ? "UInt64" : "Int64")}(out var __n))");
        w.Open("switch (__n)");
        foreach (var member in shape.EnumMembers.GroupBy(m => m.ValueLiteral).Select(g => g.First()))
        {
            w.Line($"case {member.ValueLiteral}: return {shape.TypeName}.{Identifiers.Escape(member.Name)};");
        }

        w.Close();
        w.Close();
        var names = string.Join(", ", shape.EnumMembers.Select(m => m.JsonName).Distinct());
        w.Line($"throw {Json}.InvalidEnum(e, path, {JsonText.Quote(names)});");
        w.Close();
    }

    /// <summary>A [Flags] enum: one or more member names separated by commas, or a number made of its members' bits.</summary>
    private static void EmitFlagsReader(SourceWriter w, TypeShape shape)
    {
        var unsigned = shape.EnumUnderlyingType is "ulong" or "uint" or "ushort" or "byte";
        var mask = shape.EnumMembers.Aggregate(0UL, (bits, m) => bits | Bits(m.ValueLiteral));
        w.Open($"internal static {shape.TypeName} Read_{shape.Id}({Element} e, string path)");
        w.Open("if (e.ValueKind == global::System.Text.Json.JsonValueKind.String)");
        w.Line("var __s = e.GetString() ?? string.Empty;");
        w.Line($"var __r = default({shape.TypeName});");
        w.Line("var __ok = __s.Trim().Length > 0;");
        w.Open("foreach (var __part in __s.Split(','))");
        w.Line("var __t = __part.Trim();");
        foreach (var member in shape.EnumMembers)
        {
            w.Line($"if (string.Equals(__t, {JsonText.Quote(member.JsonName)}, global::System.StringComparison.OrdinalIgnoreCase)) {{ __r |= {shape.TypeName}.{Identifiers.Escape(member.Name)}; continue; }}");
        }

        w.Line("__ok = false;");
        w.Line("break;");
        w.Close();
        w.Line("if (__ok) return __r;");
        w.Close();
        w.Open($"else if (e.ValueKind == global::System.Text.Json.JsonValueKind.Number && e.TryGet{(unsigned ? "UInt64" : "Int64")}(out var __n) && (unchecked((ulong)__n) & ~{mask}UL) == 0UL)");
        w.Line($"return unchecked(({shape.TypeName})__n);");
        w.Close();
        var names = string.Join(", ", shape.EnumMembers.Select(m => m.JsonName).Distinct());
        w.Line($"throw {Json}.InvalidFlags(e, path, {JsonText.Quote(names)});");
        w.Close();
    }

    /// <summary>The bits of an enum member's value literal (negative values of signed enums as two's complement).</summary>
    private static ulong Bits(string literal) => literal.StartsWith("-", System.StringComparison.Ordinal)
        ? unchecked((ulong)long.Parse(literal, System.Globalization.CultureInfo.InvariantCulture))
        : ulong.Parse(literal, System.Globalization.CultureInfo.InvariantCulture);

    private void EmitCollectionReader(SourceWriter w, TypeShape shape)
    {
        var element = TypeRef(shape.Element!, shape.ElementNullable);
        var result = shape.Collection switch
        {
            CollectionKind.Array => element + "[]",
            CollectionKind.HashSet => $"global::System.Collections.Generic.HashSet<{element}>",
            _ => $"global::System.Collections.Generic.List<{element}>",
        };
        w.Open($"internal static {result} Read_{shape.Id}({Element} e, string path)");
        w.Line($"{Json}.ExpectArray(e, path);");
        w.Line($"var __list = new global::System.Collections.Generic.List<{element}>(e.GetArrayLength());");
        w.Line("var __i = 0;");
        w.Open("foreach (var __item in e.EnumerateArray())");
        w.Line($"__list.Add({ReadExpression(shape.Element!, shape.ElementNullable, "__item", $"{Json}.Index(path, __i)")});");
        w.Line("__i++;");
        w.Close();
        w.Line(shape.Collection switch
        {
            CollectionKind.Array => "return __list.ToArray();",
            CollectionKind.HashSet => $"return new global::System.Collections.Generic.HashSet<{element}>(__list);",
            _ => "return __list;",
        });
        w.Close();
    }

    private void EmitDictionaryReader(SourceWriter w, TypeShape shape)
    {
        var value = TypeRef(shape.Element!, shape.ElementNullable);
        var result = $"global::System.Collections.Generic.Dictionary<string, {value}>";
        w.Open($"internal static {result} Read_{shape.Id}({Element} e, string path)");
        w.Line($"{Json}.ExpectObject(e, path);");
        w.Line($"var __map = new {result}(global::System.StringComparer.Ordinal);");
        w.Open("foreach (var __p in e.EnumerateObject())");
        w.Line($"__map[__p.Name] = {ReadExpression(shape.Element!, shape.ElementNullable, "__p.Value", $"{Json}.Property(path, __p.Name)")};");
        w.Close();
        w.Line("return __map;");
        w.Close();
    }

    private void EmitObjectReader(SourceWriter w, TypeShape shape)
    {
        var properties = shape.Properties.Where(p => p.Bindable).ToList();
        w.Open($"internal static {shape.TypeName} Read_{shape.Id}({Element} e, string path)");
        w.Line($"{Json}.ExpectObject(e, path);");
        for (var i = 0; i < properties.Count; i++)
        {
            w.Line($"var __h{i} = false;");
            w.Line($"{TypeRef(properties[i].Shape, properties[i].Nullable)} __v{i} = default!;");
        }

        if (properties.Count > 0)
        {
            w.Open("foreach (var __p in e.EnumerateObject())");
            for (var i = 0; i < properties.Count; i++)
            {
                var p = properties[i];
                var keyword = i == 0 ? "if" : "else if";
                w.Open($"{keyword} (string.Equals(__p.Name, {JsonText.Quote(p.JsonName)}, global::System.StringComparison.OrdinalIgnoreCase))");
                w.Line($"__v{i} = {ReadExpression(p.Shape, p.Nullable, "__p.Value", $"{Json}.Property(path, {JsonText.Quote(p.JsonName)})")};");
                w.Line($"__h{i} = true;");
                w.Close();
            }

            w.Close();
        }

        for (var i = 0; i < properties.Count; i++)
        {
            if (properties[i].Required)
            {
                w.Line($"if (!__h{i}) throw {Json}.Missing({Json}.Property(path, {JsonText.Quote(properties[i].JsonName)}));");
            }
        }

        var constructor = shape.Constructor!;
        var arguments = new string[constructor.Parameters.Length];
        for (var i = 0; i < properties.Count; i++)
        {
            var p = properties[i];
            if (p.ConstructorIndex >= 0)
            {
                arguments[p.ConstructorIndex] = p.Required ? $"__v{i}" : $"__h{i} ? __v{i} : {p.DefaultCode}";
            }
        }

        var initializers = new List<string>();
        for (var i = 0; i < properties.Count; i++)
        {
            var p = properties[i];
            if (p.ConstructorIndex < 0 && p.Settable && (p.Required || p.InitOnly))
            {
                initializers.Add(p.Required ? $"{Identifiers.Escape(p.Name)} = __v{i}" : $"{Identifiers.Escape(p.Name)} = __h{i} ? __v{i} : {p.DefaultCode}");
            }
        }

        var creation = $"new {shape.TypeName}({string.Join(", ", arguments)})";
        if (initializers.Count > 0)
        {
            creation += " { " + string.Join(", ", initializers) + " }";
        }

        w.Line($"var __r = {creation};");
        for (var i = 0; i < properties.Count; i++)
        {
            var p = properties[i];
            if (p.ConstructorIndex < 0 && p.Settable && !p.Required && !p.InitOnly)
            {
                w.Line($"if (__h{i}) __r.{Identifiers.Escape(p.Name)} = __v{i};");
            }
        }

        w.Line("return __r;");
        w.Close();
    }

    private static void Separate(SourceWriter w, ref bool first)
    {
        if (!first)
        {
            w.Line();
        }

        first = false;
    }

    private void EmitWriter(SourceWriter w, TypeShape shape, ref bool first)
    {
        Separate(w, ref first);
        var valueType = shape.TypeName;
        w.Open($"internal static void Write_{shape.Id}({Writer} __w, {valueType} value, int depth)");
        switch (shape.Kind)
        {
            case ShapeKind.Enum:
                w.Open("switch (value)");
                foreach (var member in shape.EnumMembers.GroupBy(m => m.ValueLiteral).Select(g => g.First()))
                {
                    w.Line($"case {shape.TypeName}.{Identifiers.Escape(member.Name)}: __w.WriteStringValue({JsonText.Quote(member.JsonName)}); return;");
                }

                w.Close();
                var unsigned = shape.EnumUnderlyingType is "ulong" or "uint" or "ushort" or "byte";
                if (shape.IsFlags)
                {
                    // A combination: its members' names, largest first as Enum.ToString picks them, written in ascending order.
                    w.Line("var __names = new global::System.Collections.Generic.List<string>();");
                    w.Line("var __rest = value;");
                    foreach (var member in shape.EnumMembers
                        .GroupBy(m => m.ValueLiteral).Select(g => g.First())
                        .Where(m => m.ValueLiteral != "0")
                        .OrderByDescending(m => decimal.Parse(m.ValueLiteral, System.Globalization.CultureInfo.InvariantCulture)))
                    {
                        var name = $"{shape.TypeName}.{Identifiers.Escape(member.Name)}";
                        w.Line($"if ((__rest & {name}) == {name}) {{ __names.Insert(0, {JsonText.Quote(member.JsonName)}); __rest &= ~{name}; }}");
                    }

                    w.Open("if (__rest == 0 && __names.Count > 0)");
                    w.Line("__w.WriteStringValue(string.Join(\", \", __names));");
                    w.Line("return;");
                    w.Close();
                }

                w.Line($"__w.WriteNumberValue(({(unsigned ? "ulong" : "long")})value);");
                break;

            case ShapeKind.Collection:
                w.Line($"{Json}.CheckDepth(depth);");
                w.Line("__w.WriteStartArray();");
                w.Open("foreach (var __item in value)");
                w.Line(WriteStatement(shape.Element!, "__item", "depth + 1"));
                w.Close();
                w.Line("__w.WriteEndArray();");
                break;

            case ShapeKind.Dictionary:
                w.Line($"{Json}.CheckDepth(depth);");
                w.Line("__w.WriteStartObject();");
                w.Open("foreach (var __pair in value)");
                w.Line("__w.WritePropertyName(__pair.Key);");
                w.Line($"var __value = __pair.Value;");
                w.Line(WriteStatement(shape.Element!, "__value", "depth + 1"));
                w.Close();
                w.Line("__w.WriteEndObject();");
                break;

            case ShapeKind.Object:
                w.Line($"{Json}.CheckDepth(depth);");
                w.Line("__w.WriteStartObject();");
                foreach (var p in shape.Properties)
                {
                    w.Block();
                    w.Line($"var __x = value.{Identifiers.Escape(p.Name)};");
                    var isNullable = !p.Shape.IsValueType || p.Shape.Kind == ShapeKind.NullableValue;
                    if (isNullable)
                    {
                        var test = p.Shape.Kind == ShapeKind.NullableValue ? "__x.HasValue" : "__x is not null";
                        var read = p.Shape.Kind == ShapeKind.NullableValue ? "__x.Value" : "__x";
                        var inner = p.Shape.Kind == ShapeKind.NullableValue ? p.Shape.Element! : p.Shape;
                        w.Open($"if ({test})");
                        w.Line($"__w.WritePropertyName({JsonText.Quote(p.JsonName)});");
                        w.Line(WriteStatement(inner, read, "depth + 1", knownNotNull: true));
                        w.Close();
                    }
                    else
                    {
                        w.Line($"__w.WritePropertyName({JsonText.Quote(p.JsonName)});");
                        w.Line(WriteStatement(p.Shape, "__x", "depth + 1", knownNotNull: true));
                    }

                    w.Close();
                }

                w.Line("__w.WriteEndObject();");
                break;
        }

        w.Close();
    }
}
