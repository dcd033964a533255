using System.ComponentModel;
using ModelContextProtocol.Server;

namespace Mmcp.Server.Bench.Server;

/// <summary>
/// A dozen small tools, typical of an app's server. Marked for both registrations: <c>[McpServer]</c> (generated) and
/// <c>[McpServerToolType]</c> (the SDK's reflection-based discovery).
/// </summary>
[McpServer("io.mmcp.bench.startup", "Startup benchmark", "Tools for the startup-to-first-call benchmark.", "1.0.0")]
[McpServerToolType]
public sealed partial class BenchTools
{
    [McpServerTool(Name = "echo"), Description("Echoes the text.")]
    public static string Echo([Description("The text.")] string text) => text;

    [McpServerTool(Name = "add"), Description("Adds two numbers.")]
    public static int Add([Description("First.")] int a, [Description("Second.")] int b) => a + b;

    [McpServerTool(Name = "multiply"), Description("Multiplies two numbers.")]
    public static double Multiply([Description("First.")] double a, [Description("Second.")] double b) => a * b;

    [McpServerTool(Name = "upper"), Description("Upper-cases the text.")]
    public static string Upper([Description("The text.")] string text) => text.ToUpperInvariant();

    [McpServerTool(Name = "repeat"), Description("Repeats the text.")]
    public static string Repeat([Description("The text.")] string text, [Description("How often.")] int times = 2) => string.Concat(Enumerable.Repeat(text, times));

    [McpServerTool(Name = "length"), Description("Counts characters.")]
    public static long Length([Description("The text.")] string text) => text.Length;

    [McpServerTool(Name = "negate"), Description("Negates a flag.")]
    public static bool Negate([Description("The flag.")] bool flag) => !flag;

    [McpServerTool(Name = "clamp"), Description("Clamps a number.")]
    public static double Clamp([Description("The number.")] double value, [Description("Lower bound.")] double min = 0, [Description("Upper bound.")] double max = 1) => Math.Clamp(value, min, max);

    [McpServerTool(Name = "join"), Description("Joins two texts.")]
    public static string Join([Description("First.")] string a, [Description("Second.")] string b, [Description("Separator.")] string separator = " ") => a + separator + b;

    [McpServerTool(Name = "trim"), Description("Trims spaces.")]
    public static string Trim([Description("The text.")] string text) => text.Trim();

    [McpServerTool(Name = "is_even"), Description("Whether a number is even.")]
    public static bool IsEven([Description("The number.")] long value) => value % 2 == 0;

    [McpServerTool(Name = "wait"), Description("Waits a while.")]
    public static async Task<string> WaitAsync([Description("Milliseconds.")] int milliseconds, CancellationToken cancellationToken)
    {
        await Task.Delay(milliseconds, cancellationToken).ConfigureAwait(false);
        return "waited";
    }
}
