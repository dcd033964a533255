using System.Diagnostics;

namespace Atlas.Testing;

/// <summary>
/// The one sandbox of every test project: a fresh private directory for one test and the environment that points a
/// child process (<see cref="ApplyTo"/>) or an in-process lookup (<see cref="Get"/>) at it, so no test reads or writes
/// the user's own home, configuration, registry or sockets. Deleted on dispose.
/// </summary>
/// <remarks>
/// Layout, under a short <see cref="Root"/> (Unix socket paths are limited to about 107 bytes): <c>home/</c> with the XDG
/// defaults under it (<c>.config</c>, <c>.cache</c>, <c>.local/share</c>, <c>.local/state</c>), <c>reg/</c> (a registry
/// directory), <c>run/</c> (the runtime directory for sockets), <c>work/</c> (a working directory). Only the root exists at
/// first: a test creates what it needs (<see cref="CreateHome"/>, …), so the code under test can be seen creating the rest.
/// <see cref="Variables"/> sets <c>HOME</c>, the XDG base directories, <c>XDG_DATA_DIRS</c> (to a directory that does not
/// exist), <c>MMCP_RUNTIME_DIR</c> and <c>PATH</c>; <c>MMCP_REGISTRY_PATH</c> is unset (a test that wants
/// <see cref="RegistryDirectory"/> as the registry sets it).
/// </remarks>
public class TestSandbox : IDisposable
{
    private readonly Dictionary<string, string> _variables = new(StringComparer.Ordinal);
    private bool _disposed;

    /// <summary>Creates the sandbox; <paramref name="prefix"/> names its directory under the system temp directory.</summary>
    public TestSandbox(string prefix = "at-")
    {
        Root = Directory.CreateTempSubdirectory(prefix).FullName;
        Home = System.IO.Path.Combine(Root, "home");
        RegistryDirectory = System.IO.Path.Combine(Root, "reg");
        RuntimeDirectory = System.IO.Path.Combine(Root, "run");
        WorkDirectory = System.IO.Path.Combine(Root, "work");
        ConfigDirectory = System.IO.Path.Combine(Home, ".config");
        CacheDirectory = System.IO.Path.Combine(Home, ".cache");
        DataDirectory = System.IO.Path.Combine(Home, ".local", "share");
        StateDirectory = System.IO.Path.Combine(Home, ".local", "state");
        _variables["HOME"] = Home;
        _variables["XDG_CONFIG_HOME"] = ConfigDirectory;
        _variables["XDG_CACHE_HOME"] = CacheDirectory;
        _variables["XDG_DATA_HOME"] = DataDirectory;
        _variables["XDG_STATE_HOME"] = StateDirectory;
        _variables["XDG_RUNTIME_DIR"] = RuntimeDirectory;
        _variables["XDG_DATA_DIRS"] = System.IO.Path.Combine(Root, "nonexistent");
        _variables["MMCP_RUNTIME_DIR"] = RuntimeDirectory;
        _variables["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin";
    }

    /// <summary>The sandbox directory (deleted on dispose).</summary>
    public string Root { get; }

    /// <summary><c>HOME</c> inside the sandbox.</summary>
    public string Home { get; }

    /// <summary>A registry directory (not the default one; set <c>MMCP_REGISTRY_PATH</c> or pass it to use it).</summary>
    public string RegistryDirectory { get; }

    /// <summary><c>MMCP_RUNTIME_DIR</c> and <c>XDG_RUNTIME_DIR</c>: where sockets go.</summary>
    public string RuntimeDirectory { get; }

    /// <summary>A working directory for a child process.</summary>
    public string WorkDirectory { get; }

    /// <summary><c>XDG_CONFIG_HOME</c> (<c>~/.config</c>).</summary>
    public string ConfigDirectory { get; }

    /// <summary><c>XDG_CACHE_HOME</c> (<c>~/.cache</c>).</summary>
    public string CacheDirectory { get; }

    /// <summary><c>XDG_DATA_HOME</c> (<c>~/.local/share</c>).</summary>
    public string DataDirectory { get; }

    /// <summary><c>XDG_STATE_HOME</c> (<c>~/.local/state</c>).</summary>
    public string StateDirectory { get; }

    /// <summary>The environment of the sandbox (change it with <see cref="Set"/> before starting a process).</summary>
    public IReadOnlyDictionary<string, string> Variables => _variables;

    /// <summary>Sets one variable of the sandbox's environment.</summary>
    public void Set(string name, string value) => _variables[name] = value;

    /// <summary>Reads one variable of the sandbox's environment (null when unset; nothing is inherited).</summary>
    public string? Get(string name) => _variables.GetValueOrDefault(name);

    /// <summary>Points a child process at the sandbox: its variables set, <c>MMCP_REGISTRY_PATH</c> removed unless the
    /// sandbox sets it.</summary>
    public void ApplyTo(ProcessStartInfo start)
    {
        ArgumentNullException.ThrowIfNull(start);
        start.Environment.Remove("MMCP_REGISTRY_PATH");
        foreach (var (name, value) in _variables)
        {
            start.Environment[name] = value;
        }
    }

    /// <summary>Creates <see cref="Home"/> and returns it.</summary>
    public string CreateHome() => Directory.CreateDirectory(Home).FullName;

    /// <summary>Creates <see cref="RegistryDirectory"/> and returns it.</summary>
    public string CreateRegistry() => Directory.CreateDirectory(RegistryDirectory).FullName;

    /// <summary>Creates <see cref="WorkDirectory"/> and returns it.</summary>
    public string CreateWorkDirectory() => Directory.CreateDirectory(WorkDirectory).FullName;

    /// <summary>A path under <see cref="Root"/>.</summary>
    public string Combine(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    /// <summary>Writes a text file under <see cref="Root"/> (creating its directory) and returns its full path.</summary>
    public string Write(string relative, string content)
    {
        var full = Combine(relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
        return full;
    }

    /// <summary>Deletes the sandbox directory.</summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Deletes the sandbox directory (best effort: a file a killed process still holds does not fail the test).</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
