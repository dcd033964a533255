namespace Mmcp.Core;

/// <summary>Temporary.</summary>
public static class Placeholder
{
    /// <summary>Returns one.</summary>
    public static int One => 1;
}
