using Microsoft.Extensions.Options;

namespace Atlas.Media;

/// <summary>Validates <see cref="AtlasMediaOptions"/> at startup with messages that say how to fix each value.</summary>
internal sealed class AtlasMediaOptionsValidator : IValidateOptions<AtlasMediaOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, AtlasMediaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        void Require(bool ok, string message)
        {
            if (!ok)
            {
                errors.Add(message);
            }
        }

        Require(options.MaxConcurrency is >= 1 and <= 256, $"Atlas:Media:MaxConcurrency must be between 1 and 256 (was {options.MaxConcurrency}); use the number of cores.");
        Require(options.QueueCapacity is >= 1 and <= 100_000, $"Atlas:Media:QueueCapacity must be between 1 and 100000 (was {options.QueueCapacity}).");
        Require(options.MaxJobsPerRequester is >= 0 and <= 100_000, $"Atlas:Media:MaxJobsPerRequester must be between 0 and 100000 (was {options.MaxJobsPerRequester}); 0 turns the limit off.");
        Require(options.MaxInputBytes >= 1024, $"Atlas:Media:MaxInputBytes must be at least 1024 bytes (was {options.MaxInputBytes}).");
        Require(options.MaxPixels >= 64 * 64, $"Atlas:Media:MaxPixels must be at least 4096 (was {options.MaxPixels}).");
        Require(options.MaxDuration > TimeSpan.Zero, $"Atlas:Media:MaxDuration must be positive (was {options.MaxDuration}).");
        Require(options.ToolTimeout > TimeSpan.Zero, $"Atlas:Media:ToolTimeout must be positive (was {options.ToolTimeout}).");
        Require(options.ToolMemoryLimitBytes >= 16L * 1024 * 1024, $"Atlas:Media:ToolMemoryLimitBytes must be at least 16 MiB (was {options.ToolMemoryLimitBytes}).");
        Require(options.CacheMaxBytes >= 0, $"Atlas:Media:CacheMaxBytes must not be negative (was {options.CacheMaxBytes}); 0 disables caching.");
        Require(options.CacheMaxEntries >= 0, $"Atlas:Media:CacheMaxEntries must not be negative (was {options.CacheMaxEntries}); 0 disables caching.");
        Require(options.DescribeTimeout > TimeSpan.Zero, $"Atlas:Media:DescribeTimeout must be positive (was {options.DescribeTimeout}).");
        Require(options.DescribeMaxImageSide is >= 64 and <= 8192, $"Atlas:Media:DescribeMaxImageSide must be between 64 and 8192 (was {options.DescribeMaxImageSide}).");
        foreach (var root in options.AllowedRoots)
        {
            Require(!string.IsNullOrWhiteSpace(root) && Path.IsPathFullyQualified(root),
                $"Atlas:Media:AllowedRoots entries must be absolute directory paths (was '{root}').");
        }

        foreach (var (value, key) in new[] { (options.CacheDirectory, "CacheDirectory"), (options.WorkDirectory, "WorkDirectory"), (options.ModelsDirectory, "ModelsDirectory") })
        {
            Require(value is null || Path.IsPathFullyQualified(value), $"Atlas:Media:{key} must be an absolute path (was '{value}').");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
