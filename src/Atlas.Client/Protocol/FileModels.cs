using System.Text.Json.Serialization;

namespace Atlas.Client.Protocol;

/// <summary>The <c>data</c> of a <c>file_request</c> frame.</summary>
public sealed class FileRequest
{
    /// <summary>The operation: <c>list</c>, <c>stat</c>, <c>read</c>, <c>write</c>, <c>mkdir</c>, <c>move</c> or <c>delete</c>.</summary>
    [JsonPropertyName("op")]
    public string Op { get; set; } = "";

    /// <summary>The path relative to the device's root, with <c>/</c> separators (empty or <c>/</c>-less for the root).</summary>
    [JsonPropertyName("path")]
    public string Path { get; set; } = "";

    /// <summary>The destination path (<c>move</c>).</summary>
    [JsonPropertyName("to")]
    public string? To { get; set; }

    /// <summary>Base64 content (<c>write</c>).</summary>
    [JsonPropertyName("content")]
    public string? Content { get; set; }

    /// <summary>First byte to read (<c>read</c>).</summary>
    [JsonPropertyName("offset")]
    public long? Offset { get; set; }

    /// <summary>Number of bytes to read (<c>read</c>; capped by the server).</summary>
    [JsonPropertyName("length")]
    public long? Length { get; set; }

    /// <summary>Replace an existing file (<c>write</c>, <c>move</c>).</summary>
    [JsonPropertyName("overwrite")]
    public bool? Overwrite { get; set; }

    /// <summary>Delete a non-empty directory with its contents (<c>delete</c>).</summary>
    [JsonPropertyName("recursive")]
    public bool? Recursive { get; set; }
}

/// <summary>One file or directory in a listing or <c>stat</c> answer.</summary>
public sealed class FileEntry
{
    /// <summary>The path relative to the device root.</summary>
    [JsonPropertyName("path")]
    public string Path { get; set; } = "";

    /// <summary>The entry's name.</summary>
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    /// <summary><c>file</c> or <c>directory</c>.</summary>
    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "";

    /// <summary>Size in bytes (files).</summary>
    [JsonPropertyName("size")]
    public long Size { get; set; }

    /// <summary>Last modification time.</summary>
    [JsonPropertyName("modified")]
    public DateTimeOffset Modified { get; set; }

    /// <summary>The file's entity tag (files only; a quoted string that changes when the content changes): send it back
    /// in <c>If-Match</c> so a change is applied only to the version the client saw.</summary>
    [JsonPropertyName("etag")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ETag { get; set; }
}

/// <summary>The answer of <c>GET /files/list</c> (and of a <c>list</c> file request).</summary>
public sealed class FileListResponse
{
    /// <summary>The listed directory, relative to the device root (empty for the root).</summary>
    [JsonPropertyName("path")]
    public string Path { get; set; } = "";

    /// <summary>Its entries.</summary>
    [JsonPropertyName("entries")]
    public List<FileEntry> Entries { get; set; } = [];
}
