using System.ComponentModel;
using System.Text;
using Mmcp.Server;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FileManagerServer;

/// <summary>
/// The app's MCP server: browse and read the files under one root directory. The class is partial because the Mmcp
/// source generator adds its registration (tools, resources, JSON Schemas, manifest) at compile time: no reflection.
/// </summary>
[McpServer("io.mmcp.examples.filemanager", "File Manager", "Lists and reads the files in one folder of this computer.", "1.0.0", Categories = ["files"], Permissions = ["files.read"])]
public sealed partial class FileManager
{
    private const long MaxReadBytes = 8 * 1024 * 1024;
    private readonly FileRoot _root;

    public FileManager(FileRoot root) => _root = root;

    /// <summary>One entry of a directory listing.</summary>
    /// <param name="Name">The file or folder name.</param>
    /// <param name="Type">"file" or "directory".</param>
    /// <param name="Size">The size in bytes (0 for folders).</param>
    /// <param name="Modified">When it was last written (UTC).</param>
    /// <param name="Uri">The file:// URI to read with the 'file' resource.</param>
    public sealed record FileEntry(string Name, string Type, long Size, DateTimeOffset Modified, string Uri);

    /// <summary>A directory listing.</summary>
    /// <param name="Path">The listed folder, relative to the shared root.</param>
    /// <param name="Entries">The files and folders in it, by name.</param>
    public sealed record FileListing(string Path, IReadOnlyList<FileEntry> Entries);

    [McpServerTool(Name = "list_files", ReadOnly = true, Idempotent = true, UseStructuredContent = true)]
    [Description("Lists the files and folders in a folder under the shared root. Returns name, type (file or directory), size in bytes, modification time and a file:// URI to read with the 'file' resource.")]
    public FileListing ListFiles(
        [Description("Folder to list, relative to the shared root; empty for the root itself.")] string path = "")
    {
        var directory = _root.Resolve(path);
        if (!Directory.Exists(directory))
        {
            throw new McpException($"'{path}' is not a folder under the shared root.");
        }

        return new FileListing(path, [.. new DirectoryInfo(directory)
            .EnumerateFileSystemInfos("*", new EnumerationOptions { IgnoreInaccessible = true, AttributesToSkip = FileAttributes.None })
            .Where(e => !_root.EscapesRoot(e.FullName))
            .OrderBy(e => e.Name, StringComparer.Ordinal)
            .Select(e => new FileEntry(
                e.Name,
                e is DirectoryInfo ? "directory" : "file",
                e is FileInfo f ? f.Length : 0,
                e.LastWriteTimeUtc,
                new Uri(e.FullName).AbsoluteUri))]);
    }

    [McpServerResource(UriTemplate = "file://{+path}", Name = "file")]
    [Description("The contents of a file under the shared root: text for UTF-8 files, base64 otherwise.")]
    public async Task<ResourceContents> ReadFileAsync(
        [Description("The file's absolute path (as in the URIs list_files returns).")] string path,
        CancellationToken cancellationToken)
    {
        var full = _root.Resolve(Uri.UnescapeDataString(path), absolute: true);
        var info = new FileInfo(full);
        if (!info.Exists)
        {
            throw new McpException($"'{path}' is not a file under the shared root.");
        }

        if (info.Length > MaxReadBytes)
        {
            throw new McpException($"'{path}' is {info.Length} bytes; this server returns files of at most {MaxReadBytes} bytes.");
        }

        var bytes = await File.ReadAllBytesAsync(full, cancellationToken).ConfigureAwait(false);
        var uri = new Uri(full).AbsoluteUri;
        return System.Text.Unicode.Utf8.IsValid(bytes) && !bytes.AsSpan().Contains((byte)0)
            ? new TextResourceContents { Uri = uri, MimeType = "text/plain", Text = Encoding.UTF8.GetString(bytes) }
            : BlobResourceContents.FromBytes(bytes, uri, "application/octet-stream");
    }
}
