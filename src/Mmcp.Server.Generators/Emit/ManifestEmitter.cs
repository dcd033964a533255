using System.Collections.Generic;
using System.Linq;
using Mmcp.Server.Generators.Model;
using Mmcp.Server.Generators.Schema;

namespace Mmcp.Server.Generators.Emit;

/// <summary>
/// Writes the install-time manifest of a server at compile time: identity, a socket transport with a relative name
/// (resolved per user when the app is installed) and the capability snapshot, so hubs list tools without launching the app.
/// </summary>
internal static class ManifestEmitter
{
    public const string SchemaUri = "https://mmcp.dev/schemas/manifest.v1.schema.json";

    public static string Write(ServerModel server, IReadOnlyDictionary<MethodModel, (string Input, string? Output)> schemas)
    {
        var json = new JsonText().StartObject()
            .Name("$schema").String(SchemaUri)
            .Name("manifestVersion").Number(1)
            .Name("id").String(server.Id)
            .Name("name").String(server.Name)
            .Name("description").String(server.Description)
            .Name("version").String(server.Version);
        Strings(json, "categories", server.Categories);
        Strings(json, "permissions", server.Permissions);
        json.Name("transport").StartObject().Name("type").String("socket").Name("path").String(server.Id + ".sock").EndObject();

        var methods = server.Methods.Where(m => !m.Invalid).ToList();
        json.Name("capabilities").StartObject();
        var tools = methods.Where(m => m.Kind == PrimitiveKindOfMethod.Tool).OrderBy(m => m.Name, System.StringComparer.Ordinal).ToList();
        if (tools.Count > 0)
        {
            json.Name("tools").StartArray();
            foreach (var tool in tools)
            {
                json.StartObject().Name("name").String(tool.Name).Property("title", tool.Title).Property("description", tool.Description);
                json.Name("inputSchema").Raw(schemas[tool].Input);
                if (schemas[tool].Output is { } output)
                {
                    json.Name("outputSchema").Raw(output);
                }

                if (HasAnnotations(tool))
                {
                    json.Name("annotations").StartObject().Property("title", tool.Title);
                    Hint(json, "readOnlyHint", tool.ReadOnly);
                    Hint(json, "destructiveHint", tool.Destructive);
                    Hint(json, "idempotentHint", tool.Idempotent);
                    Hint(json, "openWorldHint", tool.OpenWorld);
                    json.EndObject();
                }

                Common(json, tool);
                json.EndObject();
            }

            json.EndArray();
        }

        Resources(json, methods, templated: false);
        Resources(json, methods, templated: true);

        var prompts = methods.Where(m => m.Kind == PrimitiveKindOfMethod.Prompt).OrderBy(m => m.Name, System.StringComparer.Ordinal).ToList();
        if (prompts.Count > 0)
        {
            json.Name("prompts").StartArray();
            foreach (var prompt in prompts)
            {
                json.StartObject().Name("name").String(prompt.Name).Property("title", prompt.Title).Property("description", prompt.Description);
                var arguments = prompt.Parameters.Where(p => p.Source == ParameterSource.Argument).ToList();
                if (arguments.Count > 0)
                {
                    json.Name("arguments").StartArray();
                    foreach (var argument in arguments)
                    {
                        json.StartObject().Name("name").String(argument.Name).Property("description", argument.Description).Name("required").Bool(!argument.HasDefault).EndObject();
                    }

                    json.EndArray();
                }

                Common(json, prompt);
                json.EndObject();
            }

            json.EndArray();
        }

        json.EndObject();
        return json.EndObject().ToString();
    }

    public static bool HasAnnotations(MethodModel tool) =>
        tool.Title is not null || tool.ReadOnly is not null || tool.Destructive is not null || tool.Idempotent is not null || tool.OpenWorld is not null;

    /// <summary>The <c>_meta</c> object of a primitive as JSON, or <see langword="null"/>.</summary>
    public static string? Meta(MethodModel method)
    {
        if (method.Meta.Count == 0)
        {
            return null;
        }

        var json = new JsonText().StartObject();
        foreach (var pair in method.Meta)
        {
            json.Name(pair.Key).Raw(pair.Value);
        }

        return json.EndObject().ToString();
    }

    private static void Resources(JsonText json, List<MethodModel> methods, bool templated)
    {
        var resources = methods.Where(m => m.Kind == PrimitiveKindOfMethod.Resource && m.IsTemplated == templated).OrderBy(m => m.UriTemplate, System.StringComparer.Ordinal).ToList();
        if (resources.Count == 0)
        {
            return;
        }

        json.Name(templated ? "resourceTemplates" : "resources").StartArray();
        foreach (var resource in resources)
        {
            json.StartObject().Name(templated ? "uriTemplate" : "uri").String(resource.UriTemplate).Name("name").String(resource.Name).Property("title", resource.Title)
                .Property("description", resource.Description).Property("mimeType", resource.MimeType);
            Common(json, resource);
            json.EndObject();
        }

        json.EndArray();
    }

    private static void Common(JsonText json, MethodModel method)
    {
        if (method.IconSource is { } icon)
        {
            json.Name("icons").StartArray().StartObject().Name("src").String(icon).EndObject().EndArray();
        }

        if (Meta(method) is { } meta)
        {
            json.Name("_meta").Raw(meta);
        }
    }

    private static void Hint(JsonText json, string name, bool? value)
    {
        if (value is { } v)
        {
            json.Name(name).Bool(v);
        }
    }

    private static void Strings(JsonText json, string name, List<string> values)
    {
        if (values.Count == 0)
        {
            return;
        }

        json.Name(name).StartArray();
        foreach (var value in values)
        {
            json.String(value);
        }

        json.EndArray();
    }
}
