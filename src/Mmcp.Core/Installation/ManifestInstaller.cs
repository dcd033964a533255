using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;

namespace Mmcp.Core.Installation;

/// <summary>
/// Installs an app's manifest into the user registry, and removes it: the desktop analogue of installing an Android app
/// with an intent filter. Behind <c>mmcp install</c> and <c>mmcp uninstall</c>.
/// </summary>
/// <remarks>
/// <para>An app built with Mmcp.Server has its manifest (<c>&lt;id&gt;.json</c>) next to it, with paths relative to the
/// app's directory (<c>./App</c>) and a relative socket name, because the build cannot know where the app will live or
/// the user's runtime directory. Installing validates the manifest, resolves those paths, and writes it atomically.</para>
/// <para>An install never silently shadows another source's server with the same id (a system-wide manifest, a Claude
/// Desktop or VS Code configuration, or a different app's manifest): that needs <see cref="InstallOptions.Force"/>.</para>
/// </remarks>
public static class ManifestInstaller
{
    /// <summary>Installs the manifest of the app at <paramref name="path"/>.</summary>
    /// <param name="path">A manifest file, the app's directory, or the app's executable (its manifest is looked up next to it).</param>
    /// <param name="options">The options; the default installs into the user registry of the current environment.</param>
    /// <param name="cancellationToken">Cancels the install.</param>
    /// <returns>What was installed and where.</returns>
    /// <exception cref="InstallException">The manifest was not found or invalid, a path does not resolve, or the id is taken by another source; nothing was written.</exception>
    public static async Task<InstallResult> InstallAsync(string path, InstallOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new InstallOptions();
        var sourcePath = FindManifest(path);
        var read = ManifestReader.ReadFile(sourcePath);
        if (read.Manifest is not { } manifest)
        {
            throw new InstallException($"'{sourcePath}' is not a valid Mmcp manifest:{Environment.NewLine}{string.Join(Environment.NewLine, read.Diagnostics.Select(d => "  " + d))}", read.Diagnostics);
        }

        var resolved = Resolve(manifest, Path.GetDirectoryName(sourcePath)!, options);
        var target = RegistryPaths.GetManifestPath(options.TargetDirectory, resolved.Id);
        if (string.Equals(Path.GetFullPath(target), sourcePath, StringComparison.Ordinal))
        {
            throw new InstallException($"'{sourcePath}' is already the installed manifest; install from the app's own directory instead.");
        }

        var existed = File.Exists(target);
        var previous = existed ? ManifestReader.ReadFile(target).Manifest : null;
        var others = await OtherDefinitionsAsync(resolved.Id, target, options, cancellationToken).ConfigureAwait(false);
        var conflicts = others.ToList();
        if (existed && (previous is null || !SameApp(previous, resolved)))
        {
            conflicts.Insert(0, new ServerProvenance(ServerSourceKind.ManifestDirectory, target));
        }

        if (conflicts.Count > 0 && !options.Force)
        {
            throw new InstallException(
                $"Another server already uses the id '{resolved.Id}': {string.Join("; ", conflicts)}. Installing would {(existed ? "replace or " : string.Empty)}shadow it. "
                + $"Uninstall it first (mmcp uninstall {resolved.Id}), or install anyway with --force.",
                [],
                conflicts);
        }

        await ManifestWriter.WriteFileAsync(resolved, target, cancellationToken).ConfigureAwait(false);
        return new InstallResult(resolved, target, sourcePath, existed, others);
    }

    /// <summary>Removes a server's manifest from the registry directory.</summary>
    /// <param name="id">The server id.</param>
    /// <param name="options">The options; the default uses the user registry of the current environment.</param>
    /// <param name="cancellationToken">Cancels the uninstall.</param>
    /// <returns>What was removed, and which other sources still define the id.</returns>
    /// <exception cref="ArgumentException"><paramref name="id"/> is not a valid server id.</exception>
    public static async Task<UninstallResult> UninstallAsync(string id, InstallOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        options ??= new InstallOptions();
        if (!ServerIds.IsValidServerId(id))
        {
            throw new ArgumentException($"'{id}' is not a valid server id; list installed servers with `mmcp servers`.", nameof(id));
        }

        var target = RegistryPaths.GetManifestPath(options.TargetDirectory, id);
        string? removed = null;
        ServerManifest? manifest = null;
        if (File.Exists(target))
        {
            manifest = ManifestReader.ReadFile(target).Manifest;
            File.Delete(target);
            removed = target;
        }

        var remaining = await OtherDefinitionsAsync(id, target, options, cancellationToken).ConfigureAwait(false);
        return new UninstallResult(id, removed, manifest, remaining);
    }

    /// <summary>
    /// Finds the manifest for <paramref name="path"/>: the file itself when it is a <c>.json</c> file; the one manifest
    /// in a directory; or, for an executable, the manifest next to it whose launch command starts it.
    /// </summary>
    /// <param name="path">A manifest file, an app directory or an app executable.</param>
    /// <returns>The full path of the manifest file.</returns>
    /// <exception cref="InstallException">No manifest, or more than one candidate.</exception>
    public static string FindManifest(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        if (File.Exists(full) && full.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            return full;
        }

        var directory = Directory.Exists(full) ? full : File.Exists(full) ? Path.GetDirectoryName(full)! : null;
        if (directory is null)
        {
            throw new InstallException($"'{path}' does not exist; pass an app's executable, its directory or its manifest (<id>.json).");
        }

        var candidates = Directory.EnumerateFiles(directory, "*.json")
            .Where(LooksLikeManifest)
            .Select(f => (File: f, Manifest: ManifestReader.ReadFile(f).Manifest))
            .Where(c => c.Manifest is not null)
            .OrderBy(c => c.File, StringComparer.Ordinal)
            .ToList();
        if (File.Exists(full))
        {
            var name = Path.GetFileName(full);
            var matching = candidates.Where(c => Launches(c.Manifest!, name)).ToList();
            candidates = matching.Count > 0 ? matching : candidates;
        }

        return candidates.Count switch
        {
            1 => candidates[0].File,
            0 => throw new InstallException($"No Mmcp manifest was found in '{directory}'. Apps built with Mmcp.Server write <id>.json next to themselves; for another build run `app --mmcp-export-manifest DIR`, or pass the manifest file."),
            _ => throw new InstallException($"'{directory}' holds several manifests ({string.Join(", ", candidates.Select(c => Path.GetFileName(c.File)))}); pass the one to install."),
        };
    }

    /// <summary>
    /// Resolves a built manifest for this user and place: a relative socket name into the runtime directory, relative
    /// launch and stdio paths (<c>./App</c>, <c>../lib/x.dll</c>) against the app's directory, plus
    /// <see cref="InstallOptions.LaunchArguments"/>. Bare command names (<c>dotnet</c>) are left for a <c>PATH</c> lookup.
    /// </summary>
    /// <param name="manifest">The manifest as built.</param>
    /// <param name="appDirectory">The directory the manifest came from.</param>
    /// <param name="options">The options.</param>
    /// <returns>The manifest to install.</returns>
    /// <exception cref="InstallException">A relative program path does not exist, or the socket path is too long.</exception>
    public static ServerManifest Resolve(ServerManifest manifest, string appDirectory, InstallOptions options)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(options);
        var transport = manifest.Transport switch
        {
            SocketTransport socket => new SocketTransport { Path = ResolveSocket(manifest.Id, socket.Path, options.Environment) },
            StdioTransport stdio => new StdioTransport
            {
                Command = ResolveProgram(stdio.Command, appDirectory, "transport.command"),
                Args = [.. stdio.Args.Select(a => ResolveArgument(a, appDirectory))],
                Env = stdio.Env,
                Cwd = stdio.Cwd is null ? null : Path.GetFullPath(stdio.Cwd, appDirectory),
            },
            var other => other,
        };

        var launch = manifest.Launch is { } l
            ? new LaunchSpec
            {
                Command = ResolveProgram(l.Command, appDirectory, "launch.command"),
                Args = [.. l.Args.Select(a => ResolveArgument(a, appDirectory)), .. options.LaunchArguments],
                Env = l.Env,
                Cwd = l.Cwd is null ? null : Path.GetFullPath(l.Cwd, appDirectory),
            }
            : null;

        return manifest.WithTransportAndLaunch(transport, launch);
    }

    private static string ResolveSocket(string id, string path, MmcpEnvironment environment)
    {
        if (Path.IsPathRooted(path))
        {
            return path;
        }

        try
        {
            // The default name is what the server itself picks, hashed when the runtime directory makes it too long.
            return path == id + ".sock" ? RegistryPaths.GetDefaultSocketPath(id, environment) : RegistryPaths.ResolveSocketPath(path, environment);
        }
        catch (ArgumentException ex)
        {
            throw new InstallException($"The manifest's socket '{path}' cannot be placed in this user's runtime directory: {ex.Message}", ex);
        }
    }

    private static string ResolveProgram(string command, string appDirectory, string field)
    {
        if (!IsRelativePath(command))
        {
            return command;
        }

        var full = Path.GetFullPath(command, appDirectory);
        return File.Exists(full)
            ? full
            : throw new InstallException($"The manifest's {field} '{command}' does not exist in '{appDirectory}' (looked for '{full}'); install from the directory the app was built or published to.");
    }

    private static string ResolveArgument(string argument, string appDirectory) =>
        IsRelativePath(argument) ? Path.GetFullPath(argument, appDirectory) : argument;

    private static bool IsRelativePath(string value) =>
        value.StartsWith("./", StringComparison.Ordinal) || value.StartsWith("../", StringComparison.Ordinal)
        || (OperatingSystem.IsWindows() && (value.StartsWith(".\\", StringComparison.Ordinal) || value.StartsWith("..\\", StringComparison.Ordinal)));

    private static bool LooksLikeManifest(string file)
    {
        // deps.json, runtimeconfig.json and appsettings.json sit next to apps too: only read files that say what they are.
        try
        {
            using var reader = new StreamReader(file);
            var buffer = new char[4096];
            var read = reader.ReadBlock(buffer, 0, buffer.Length);
            var head = new string(buffer, 0, read);
            return head.Contains("\"manifestVersion\"", StringComparison.Ordinal) || head.Contains(ManifestWriter.SchemaUri, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static bool Launches(ServerManifest manifest, string fileName)
    {
        if (manifest.Launch is not { } launch)
        {
            return false;
        }

        return Path.GetFileName(launch.Command) == fileName
            || launch.Args.Any(a => Path.GetFileName(a) == fileName)
            || (launch.Args.Count > 0 && Path.GetFileNameWithoutExtension(launch.Args[0]) == fileName);
    }

    private static bool SameApp(ServerManifest installed, ServerManifest incoming) =>
        installed.Launch is null || incoming.Launch is null
            ? installed.Launch is null && incoming.Launch is null
            : string.Equals(installed.Launch.Command, incoming.Launch.Command, StringComparison.Ordinal)
                && FirstArgument(installed.Launch) == FirstArgument(incoming.Launch);

    private static string? FirstArgument(LaunchSpec launch) => launch.Args.Count > 0 ? launch.Args[0] : null;

    private static async Task<IReadOnlyList<ServerProvenance>> OtherDefinitionsAsync(string id, string target, InstallOptions options, CancellationToken cancellationToken)
    {
        await using var registry = ServerRegistry.Create(options.EffectiveSources);
        var snapshot = await registry.RefreshAsync(cancellationToken).ConfigureAwait(false);
        if (snapshot.Find(id) is not { } found)
        {
            return [];
        }

        return [.. new[] { found.Provenance }.Concat(found.Shadowed).Where(p => !string.Equals(Path.GetFullPath(p.Location), Path.GetFullPath(target), StringComparison.Ordinal))];
    }
}
