namespace Shared.Storage;

/// <summary>The one best-effort delete for files left behind (a temp file of a failed write, a runtime file at exit).</summary>
internal static class FileCleanup
{
    /// <summary>Deletes a file when it can; a file that is gone, busy or not ours stays as it is.</summary>
    /// <param name="path">The file.</param>
    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
