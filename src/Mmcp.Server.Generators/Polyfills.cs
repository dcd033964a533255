#pragma warning disable IDE0130 // The compiler looks the type up by this exact name.
namespace System.Runtime.CompilerServices;
#pragma warning restore IDE0130

/// <summary>Lets netstandard2.0 code use records and init-only setters.</summary>
internal static class IsExternalInit
{
}
