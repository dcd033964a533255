using System.Collections.Generic;
using System.Linq;
using Mmcp.Server.Generators.Model;

namespace Mmcp.Server.Generators.Schema;

/// <summary>
/// Writes the JSON Schemas of tool arguments and results at compile time, in the shape the MCP SDK's reflection-based
/// tools produce (<c>{"type":"object","properties":{...},"required":[...]}</c>, descriptions first, defaults last).
/// </summary>
internal static class JsonSchemaWriter
{
    public static string Input(IEnumerable<ParameterModel> arguments)
    {
        var json = new JsonText().StartObject().Name("type").String("object").Name("properties").StartObject();
        var required = new List<string>();
        foreach (var argument in arguments)
        {
            json.Name(argument.Name);
            Write(json, argument.Shape!, argument.Nullable, forInput: true, argument.Description, argument.HasDefault ? argument.DefaultJson : null, new HashSet<TypeShape>());
            if (!argument.HasDefault)
            {
                required.Add(argument.Name);
            }
        }

        json.EndObject();
        WriteRequired(json, required);
        return json.EndObject().ToString();
    }

    /// <summary>The output schema of a tool, wrapped in <c>{"result": ...}</c> when the result is not a JSON object.</summary>
    public static string? Output(MethodModel method, out bool wrapped)
    {
        wrapped = false;
        var shape = method.OutputSchemaShape ?? (method.UseStructuredContent ? method.Return.Shape : null);
        if (shape is null || !method.UseStructuredContent)
        {
            return null;
        }

        var nullable = method.OutputSchemaShape is null && method.Return.Nullable;
        var inner = new JsonText();
        Write(inner, shape, nullable: false, forInput: false, method.Return.Description, defaultJson: null, new HashSet<TypeShape>());
        if (shape.IsJsonObject && !nullable)
        {
            return inner.ToString();
        }

        wrapped = true;
        var json = new JsonText().StartObject().Name("type").String("object").Name("properties").StartObject().Name("result");
        Write(json, shape, nullable, forInput: false, method.Return.Description, defaultJson: null, new HashSet<TypeShape>());
        json.EndObject();
        WriteRequired(json, ["result"]);
        return json.EndObject().ToString();
    }

    private static void Write(JsonText json, TypeShape shape, bool nullable, bool forInput, string? description, string? defaultJson, HashSet<TypeShape> stack, bool typeDescription = true)
    {
        json.StartObject();
        var written = description ?? (typeDescription && shape.Kind is ShapeKind.Object or ShapeKind.Enum ? shape.Description : null);
        var flags = shape.Kind == ShapeKind.Enum && (description is not null || typeDescription) ? shape
            : shape.Kind == ShapeKind.NullableValue && description is not null ? shape.Element : null;
        if (flags is { Kind: ShapeKind.Enum, IsFlags: true })
        {
            // As System.Text.Json (and so the SDK) a [Flags] enum is a plain string, whose names only the description can give.
            var hint = "One or more of " + string.Join(", ", flags.EnumMembers.Select(m => m.JsonName).Distinct()) + ", separated by commas.";
            written = written is null ? hint : written.TrimEnd() + " " + hint;
        }

        json.Property("description", written);
        switch (shape.Kind)
        {
            case ShapeKind.Primitive:
                WritePrimitive(json, shape.Primitive, nullable);
                break;

            case ShapeKind.NullableValue:
                WriteInner(json, shape.Element!, nullable: true, forInput, stack, typeDescription: description is null);
                break;

            case ShapeKind.Enum when shape.IsFlags:
                Type(json, "string", nullable);
                break;

            case ShapeKind.Enum:
                Type(json, "string", nullable);
                json.Name("enum").StartArray();
                foreach (var name in shape.EnumMembers.Select(m => m.JsonName).Distinct())
                {
                    json.String(name);
                }

                if (nullable)
                {
                    json.Raw("null");
                }

                json.EndArray();
                break;

            case ShapeKind.Collection:
                Type(json, "array", nullable);
                json.Name("items");
                Write(json, shape.Element!, shape.ElementNullable, forInput, null, null, stack);
                break;

            case ShapeKind.Dictionary:
                Type(json, "object", nullable);
                json.Name("additionalProperties");
                Write(json, shape.Element!, shape.ElementNullable, forInput, null, null, stack);
                break;

            case ShapeKind.Object:
                Type(json, "object", nullable);
                if (!stack.Add(shape))
                {
                    break; // a recursive type: describe the inner occurrence as any object
                }

                json.Name("properties").StartObject();
                var required = new List<string>();
                foreach (var property in shape.Properties.Where(p => !forInput || p.Bindable))
                {
                    json.Name(property.JsonName);
                    Write(json, property.Shape, property.Nullable, forInput, property.Description, forInput ? property.DefaultJson : null, stack);
                    if (forInput ? property.Required : !property.Nullable || property.ConstructorIndex >= 0)
                    {
                        required.Add(property.JsonName);
                    }
                }

                json.EndObject();
                WriteRequired(json, required);
                stack.Remove(shape);
                break;

            case ShapeKind.Sdk:
                Type(json, "object", nullable);
                break;

            case ShapeKind.JsonElement:
            case ShapeKind.JsonNode:
            case ShapeKind.Any:
                break; // any JSON value
        }

        if (defaultJson is not null)
        {
            json.Name("default").Raw(defaultJson);
        }

        json.EndObject();
    }

    /// <summary>Writes the keywords of <paramref name="shape"/> into an object that is already open (for Nullable&lt;T&gt;).</summary>
    private static void WriteInner(JsonText json, TypeShape shape, bool nullable, bool forInput, HashSet<TypeShape> stack, bool typeDescription)
    {
        // The outer object may already have a description; the inner keywords must not repeat the key.
        var inner = new JsonText();
        Write(inner, shape, nullable, forInput, null, null, stack, typeDescription);
        var text = inner.ToString();
        var body = text.Substring(1, text.Length - 2);
        if (body.Length > 0)
        {
            json.Raw(body);
        }
    }

    private static void WritePrimitive(JsonText json, PrimitiveKind kind, bool nullable)
    {
        switch (kind)
        {
            case PrimitiveKind.Boolean:
                Type(json, "boolean", nullable);
                break;
            case PrimitiveKind.Byte:
            case PrimitiveKind.SByte:
            case PrimitiveKind.Int16:
            case PrimitiveKind.UInt16:
            case PrimitiveKind.Int32:
            case PrimitiveKind.UInt32:
            case PrimitiveKind.Int64:
            case PrimitiveKind.UInt64:
                Type(json, "integer", nullable);
                break;
            case PrimitiveKind.Single:
            case PrimitiveKind.Double:
            case PrimitiveKind.Decimal:
                Type(json, "number", nullable);
                break;
            case PrimitiveKind.Char:
                Type(json, "string", nullable);
                json.Name("minLength").Number(1).Name("maxLength").Number(1);
                break;
            case PrimitiveKind.Guid:
                Type(json, "string", nullable);
                json.Name("format").String("uuid");
                break;
            case PrimitiveKind.DateTime:
            case PrimitiveKind.DateTimeOffset:
                Type(json, "string", nullable);
                json.Name("format").String("date-time");
                break;
            case PrimitiveKind.DateOnly:
                Type(json, "string", nullable);
                json.Name("format").String("date");
                break;
            case PrimitiveKind.TimeOnly:
                Type(json, "string", nullable);
                json.Name("format").String("time");
                break;
            case PrimitiveKind.TimeSpan:
                Type(json, "string", nullable);
                json.Name("pattern").String(@"^-?(\d+\.)?\d{1,2}:\d{2}:\d{2}(\.\d{1,7})?$");
                break;
            case PrimitiveKind.Uri:
                Type(json, "string", nullable);
                json.Name("format").String("uri");
                break;
            case PrimitiveKind.Bytes:
                Type(json, "string", nullable);
                json.Name("contentEncoding").String("base64");
                break;
            default:
                Type(json, "string", nullable);
                break;
        }
    }

    private static void Type(JsonText json, string type, bool nullable)
    {
        json.Name("type");
        if (nullable)
        {
            json.StartArray().String(type).String("null").EndArray();
        }
        else
        {
            json.String(type);
        }
    }

    private static void WriteRequired(JsonText json, List<string> required)
    {
        if (required.Count == 0)
        {
            return;
        }

        json.Name("required").StartArray();
        foreach (var name in required)
        {
            json.String(name);
        }

        json.EndArray();
    }
}
