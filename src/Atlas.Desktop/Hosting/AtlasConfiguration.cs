using System.Globalization;
using Atlas.Media;

namespace Atlas.Desktop.Hosting;

/// <summary>Reads the <c>Atlas</c> section into <see cref="AtlasOptions"/>, with list settings that replace their
/// defaults. The configuration binder adds array items to a list that already holds defaults and ignores a plain value
/// on a list key; here a list setting may be written as one value (<c>Atlas__Pairing__DefaultPermissions=chat</c>), a
/// comma-separated value (<c>--Atlas:Network:Interfaces eth0,wlan0</c>) or an array (<c>Atlas:Llm:AllowedModels:0</c>,
/// a JSON array), and the last configuration source that sets it gives the whole list. An empty value is an empty list.</summary>
internal static class AtlasConfiguration
{
    /// <summary>Every list-valued setting of <see cref="AtlasOptions"/> (a test checks that none is missing).</summary>
    internal static readonly IReadOnlyList<(string Key, Action<AtlasOptions, List<string>> Set)> Lists =
    [
        ("Atlas:Network:Interfaces", (o, v) => o.Network.Interfaces = v),
        ("Atlas:Network:AllowedHosts", (o, v) => o.Network.AllowedHosts = v),
        ("Atlas:Pairing:DefaultPermissions", (o, v) => o.Pairing.DefaultPermissions = [.. v.Distinct(StringComparer.Ordinal)]),
        ("Atlas:Llm:AllowedModels", (o, v) => o.Llm.AllowedModels = v),
        ("Atlas:Hub:RegistryDirectories", (o, v) => o.Hub.RegistryDirectories = v),
    ];

    /// <summary>The list settings of <see cref="AtlasMediaOptions"/> (bound from <c>Atlas:Media</c>).</summary>
    internal static readonly IReadOnlyList<(string Key, Action<AtlasMediaOptions, List<string>> Set)> MediaLists =
    [
        ("Atlas:Media:AllowedRoots", (o, v) => o.AllowedRoots = v),
    ];

    public static AtlasOptions Read(IConfiguration configuration)
    {
        var options = new AtlasOptions();
        Bind(configuration, options);
        return options;
    }

    /// <summary>Binds the section, then replaces each configured list with exactly what was configured.</summary>
    public static void Bind(IConfiguration configuration, AtlasOptions options)
    {
        configuration.GetSection(AtlasOptions.Section).Bind(options);
        ApplyLists(configuration, options, Lists);
    }

    /// <summary>Binds <c>Atlas:Media</c> the same way.</summary>
    public static void BindMedia(IConfiguration configuration, AtlasMediaOptions options)
    {
        configuration.GetSection(AtlasOptions.Section + ":Media").Bind(options);
        ApplyLists(configuration, options, MediaLists);
    }

    private static void ApplyLists<T>(IConfiguration configuration, T options, IReadOnlyList<(string Key, Action<T, List<string>> Set)> lists)
    {
        foreach (var (key, set) in lists)
        {
            if (Configured(configuration, key) is { } values)
            {
                set(options, values);
            }
        }
    }

    /// <summary>The list the last source that mentions <paramref name="key"/> gives, or null when no source does.</summary>
    internal static List<string>? Configured(IConfiguration configuration, string key)
    {
        if (configuration is IConfigurationRoot root)
        {
            foreach (var provider in root.Providers.Reverse())
            {
                if (provider.TryGet(key, out var value) && value is not null)
                {
                    return Split(value);
                }

                var children = provider.GetChildKeys([], key).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
                if (children.Count > 0)
                {
                    return [.. Order(children)
                        .Select(child => provider.TryGet(key + ConfigurationPath.KeyDelimiter + child, out var item) ? item?.Trim() : null)
                        .OfType<string>()
                        .Where(item => item.Length > 0)];
                }
            }

            return null;
        }

        var section = configuration.GetSection(key);
        if (section.Value is { } scalar)
        {
            return Split(scalar);
        }

        var items = section.GetChildren().Select(c => c.Value?.Trim()).OfType<string>().Where(item => item.Length > 0).ToList();
        return section.GetChildren().Any() ? items : null;
    }

    private static List<string> Split(string value) =>
        [.. value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];

    // Array items in index order (0, 1, 2, …, 10), like the binder.
    private static IEnumerable<string> Order(List<string> children) =>
        children.All(c => int.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            ? children.OrderBy(c => int.Parse(c, NumberStyles.None, CultureInfo.InvariantCulture))
            : children.Order(StringComparer.Ordinal);
}
