using System.ComponentModel;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Mmcp.ConformanceServer;

/// <summary>The resources the conformance scenarios read and subscribe to.</summary>
[McpServerResourceType]
internal sealed class ConformanceResources
{
    [McpServerResource(UriTemplate = "test://static-text", Name = "static-text", MimeType = "text/plain"), Description("A static text resource.")]
    public static ResourceContents StaticText() =>
        new TextResourceContents { Uri = "test://static-text", MimeType = "text/plain", Text = "This is the content of the static text resource." };

    [McpServerResource(UriTemplate = "test://static-binary", Name = "static-binary", MimeType = "image/png"), Description("A static binary resource (a PNG image).")]
    public static ResourceContents StaticBinary() => BlobResourceContents.FromBytes(TestMedia.RedPixelPng, "test://static-binary", "image/png");

    [McpServerResource(UriTemplate = "test://watched-resource", Name = "watched-resource", MimeType = "text/plain"), Description("A resource clients can subscribe to.")]
    public static ResourceContents Watched() =>
        new TextResourceContents { Uri = "test://watched-resource", MimeType = "text/plain", Text = "Watched resource content." };

    [McpServerResource(UriTemplate = "test://template/{id}/data", Name = "template-data", MimeType = "application/json"), Description("Data for an id, from a resource template.")]
    public static ResourceContents TemplateData(string id) => new TextResourceContents
    {
        Uri = $"test://template/{id}/data",
        MimeType = "application/json",
        Text = $$"""{"id":"{{id}}","templateTest":true,"data":"Data for ID: {{id}}"}""",
    };
}

/// <summary>The prompts the conformance scenarios get.</summary>
[McpServerPromptType]
internal sealed class ConformancePrompts
{
    [McpServerPrompt(Name = "test_simple_prompt"), Description("A simple prompt without arguments.")]
    public static PromptMessage SimplePrompt() => new() { Role = Role.User, Content = new TextContentBlock { Text = "This is a simple prompt for testing." } };

    [McpServerPrompt(Name = "test_prompt_with_arguments"), Description("A prompt with two required arguments.")]
    public static PromptMessage PromptWithArguments([Description("First test argument")] string arg1, [Description("Second test argument")] string arg2) =>
        new() { Role = Role.User, Content = new TextContentBlock { Text = $"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'" } };

    [McpServerPrompt(Name = "test_prompt_with_embedded_resource"), Description("A prompt that embeds a resource.")]
    public static IEnumerable<PromptMessage> PromptWithEmbeddedResource([Description("URI of the resource to embed")] string resourceUri) =>
    [
        new() { Role = Role.User, Content = new EmbeddedResourceBlock { Resource = new TextResourceContents { Uri = resourceUri, MimeType = "text/plain", Text = "Embedded resource content for testing." } } },
        new() { Role = Role.User, Content = new TextContentBlock { Text = "Please process the embedded resource above." } },
    ];

    [McpServerPrompt(Name = "test_prompt_with_image"), Description("A prompt with an image.")]
    public static IEnumerable<PromptMessage> PromptWithImage() =>
    [
        new() { Role = Role.User, Content = ImageContentBlock.FromBytes(TestMedia.RedPixelPng, "image/png") },
        new() { Role = Role.User, Content = new TextContentBlock { Text = "Please analyze the image above." } },
    ];
}

/// <summary>Tiny media for image, audio and binary content.</summary>
internal static class TestMedia
{
    /// <summary>A 1x1 red PNG.</summary>
    public static readonly byte[] RedPixelPng = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==");

    /// <summary>A 10 ms, 8 kHz, 8-bit mono silent WAV.</summary>
    public static readonly byte[] SilentWav = BuildSilentWav(80);

    private static byte[] BuildSilentWav(int samples)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream))
        {
            w.Write("RIFF"u8);
            w.Write(36 + samples);
            w.Write("WAVEfmt "u8);
            w.Write(16);
            w.Write((short)1);    // PCM
            w.Write((short)1);    // mono
            w.Write(8000);        // sample rate
            w.Write(8000);        // byte rate
            w.Write((short)1);    // block align
            w.Write((short)8);    // bits per sample
            w.Write("data"u8);
            w.Write(samples);
            w.Write(Enumerable.Repeat((byte)128, samples).ToArray());
        }

        return stream.ToArray();
    }
}
