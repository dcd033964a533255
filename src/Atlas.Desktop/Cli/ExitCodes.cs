namespace Atlas.Desktop.Cli;

/// <summary>Process exit codes of the <c>atlas</c> CLI (documented in docs/atlas-configuration.md).</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Usage = 1;
    public const int NotRunning = 2;
    public const int NotFound = 3;
    public const int Refused = 4;
    public const int Configuration = 5;
}
