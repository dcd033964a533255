using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Mmcp.Client.Storage;

namespace Mmcp.Gateway.Search;

/// <summary>
/// Tool embeddings by the hash of what was embedded (the model id and the text built from the tool's definition): in
/// memory, and in one file (<c>search-embeddings.&lt;model&gt;.bin</c> in the hub's tool cache directory) so a restart
/// embeds only definitions it has not seen. An unchanged definition is never embedded twice; a changed one gets a new key.
/// </summary>
internal sealed partial class ToolEmbeddingCache
{
    private const uint Magic = 0x4D454D42; // "BMEM" little-endian: Mmcp EMBeddings.
    private const int FormatVersion = 1;
    private const int KeyBytes = 16;
    private const int MaxEntries = 100_000;
    private readonly ConcurrentDictionary<string, float[]> _vectors = new(StringComparer.Ordinal);
    private readonly string? _path;
    private readonly string _modelId;
    private readonly int _dimensions;
    private readonly ILogger _logger;
    private readonly Lock _fileLock = new();
    private bool _loaded;
    private long _computed;

    public ToolEmbeddingCache(string? path, string modelId, int dimensions, ILogger logger)
    {
        _path = path;
        _modelId = modelId;
        _dimensions = dimensions;
        _logger = logger;
    }

    /// <summary>Gets how many texts were embedded by this process (not found in memory or on disk).</summary>
    public long Computed => Interlocked.Read(ref _computed);

    /// <summary>Gets how many vectors are held.</summary>
    public int Count => _vectors.Count;

    /// <summary>The cache key of a text: a hash of the model id and the text.</summary>
    public string KeyOf(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(_modelId + "\n" + text);
        return Convert.ToHexStringLower(SHA256.HashData(bytes).AsSpan(0, KeyBytes));
    }

    public bool TryGet(string key, out float[] vector)
    {
        EnsureLoaded();
        return _vectors.TryGetValue(key, out vector!);
    }

    /// <summary>Embeds the texts whose keys are missing, in batches, and stores the vectors.</summary>
    /// <returns>How many texts were embedded.</returns>
    public int AddMissing(IReadOnlyList<(string Key, string Text)> items, IToolEmbedder embedder, int batchSize, CancellationToken cancellationToken)
    {
        EnsureLoaded();
        var missing = items.Where(i => !_vectors.ContainsKey(i.Key)).DistinctBy(i => i.Key).ToList();
        for (var start = 0; start < missing.Count; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = missing.GetRange(start, Math.Min(batchSize, missing.Count - start));
            var vectors = embedder.Embed([.. batch.Select(b => b.Text)], cancellationToken);
            for (var i = 0; i < batch.Count; i++)
            {
                _vectors[batch[i].Key] = vectors[i];
            }

            Interlocked.Add(ref _computed, batch.Count);
        }

        return missing.Count;
    }

    /// <summary>Writes every vector held to the cache file (atomically; private to the user).</summary>
    public void Save()
    {
        if (_path is null)
        {
            return;
        }

        lock (_fileLock)
        {
            var temp = $"{_path}.{Guid.NewGuid():N}.tmp";
            try
            {
                var directory = Path.GetDirectoryName(_path)!;
                if (OperatingSystem.IsWindows())
                {
                    Directory.CreateDirectory(directory);
                }
                else
                {
                    Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }

                var entries = _vectors.ToArray();
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }

                using (var stream = new FileStream(temp, options))
                using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: false))
                {
                    writer.Write(Magic);
                    writer.Write(FormatVersion);
                    writer.Write(_modelId);
                    writer.Write(_dimensions);
                    writer.Write(Math.Min(entries.Length, MaxEntries));
                    foreach (var (key, vector) in entries.Take(MaxEntries))
                    {
                        writer.Write(Convert.FromHexString(key));
                        writer.Write(MemoryMarshal.AsBytes(vector.AsSpan()));
                    }
                }

                File.Move(temp, _path, overwrite: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Log.NotSaved(_logger, _path, ex);
                PrivateFile.TryDelete(temp);
            }
        }
    }

    private void EnsureLoaded()
    {
        if (Volatile.Read(ref _loaded))
        {
            return;
        }

        lock (_fileLock)
        {
            if (_loaded)
            {
                return;
            }

            if (_path is not null && File.Exists(_path))
            {
                try
                {
                    Load(_path);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or EndOfStreamException or FormatException or InvalidDataException)
                {
                    Log.Unreadable(_logger, _path, ex);
                }
            }

            Volatile.Write(ref _loaded, true);
        }
    }

    private void Load(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        if (reader.ReadUInt32() != Magic || reader.ReadInt32() != FormatVersion || reader.ReadString() != _modelId || reader.ReadInt32() != _dimensions)
        {
            return;
        }

        var count = reader.ReadInt32();
        if (count is < 0 or > MaxEntries || stream.Length != stream.Position + ((long)count * (KeyBytes + (_dimensions * sizeof(float)))))
        {
            throw new InvalidDataException($"The embedding cache {path} is truncated or damaged.");
        }

        var buffer = new byte[_dimensions * sizeof(float)];
        for (var i = 0; i < count; i++)
        {
            var key = Convert.ToHexStringLower(reader.ReadBytes(KeyBytes));
            reader.BaseStream.ReadExactly(buffer);
            var vector = new float[_dimensions];
            for (var d = 0; d < vector.Length; d++)
            {
                vector[d] = BinaryPrimitives.ReadSingleLittleEndian(buffer.AsSpan(d * sizeof(float)));
            }

            _vectors.TryAdd(key, vector);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4603, LogLevel.Debug, "Ignoring the unreadable embedding cache {Path}")]
        public static partial void Unreadable(ILogger logger, string path, Exception exception);

        [LoggerMessage(4604, LogLevel.Warning, "Could not save the embedding cache {Path}")]
        public static partial void NotSaved(ILogger logger, string path, Exception exception);
    }
}
