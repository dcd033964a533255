using System.Text.Json.Serialization;
using Atlas.Media.Context;
using Atlas.Media.Description;
using Atlas.Media.Ocr;
using Atlas.Media.Speech;
using Atlas.Media.Video;

namespace Atlas.Media;

/// <summary>
/// Source-generated JSON metadata for the pipeline's public types (camelCase, enums as camelCase strings, nulls
/// omitted). Add it to a serializer's resolver chain to send results on the wire.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(MediaResult))]
[JsonSerializable(typeof(OcrOptions))]
[JsonSerializable(typeof(FramesOptions))]
[JsonSerializable(typeof(TranscribeOptions))]
[JsonSerializable(typeof(DescribeOptions))]
[JsonSerializable(typeof(ContextOptions))]
[JsonSerializable(typeof(MediaProgress))]
public sealed partial class MediaJsonContext : JsonSerializerContext;
