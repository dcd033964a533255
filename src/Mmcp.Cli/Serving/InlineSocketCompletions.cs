using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;

namespace Mmcp.Cli.Serving;

/// <summary>
/// <c>mmcp serve</c> runs the runtime's socket completions on its socket event thread (the runtime's
/// <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c>) instead of handing each one to a thread-pool thread. With
/// Kestrel's inline scheduling a <c>tools/call</c> on the direct lane then runs from the socket read to the write to
/// the server's stdin on one thread, and each call saves the wake of a pool thread (and the spare one the pool wakes
/// beside it), which on a 2-core machine is a large part of a call (docs/mmcp-gateway.md, "Latency").
/// <para>
/// The price is that code on that thread holds every socket of the process while it runs. So only the direct lane
/// stays there: every other request moves to the thread pool first (<see cref="LeaveIoThread"/>), and the parts of
/// the direct lane that may block or run long move too (a server's start, search, a write to a server's full pipe).
/// The setting is read once, when the first socket registers with the runtime's event loop, so it is set, that
/// registration made, and the variable removed again before anything else runs: child processes (MCP servers, which
/// may be .NET programs) never inherit it. Setting the variable before <c>mmcp serve</c> starts (to 0 or 1) is the
/// user's choice and is left alone.
/// </para>
/// </summary>
internal static class InlineSocketCompletions
{
    /// <summary>The runtime's switch.</summary>
    public const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>Gets a value indicating whether socket completions run inline in this process.</summary>
    public static bool Enabled { get; private set; }

    /// <summary>Turns inline completions on for this process, unless the user chose with the variable; call before any socket is used.</summary>
    public static void Enable()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { } chosen)
        {
            Enabled = chosen == "1";
            return;
        }

        Environment.SetEnvironmentVariable(Variable, "1");
        try
        {
            // A pending accept registers the socket with the event loop, whose type reads the variable then.
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(1);
            var accept = listener.AcceptAsync();
            listener.Close();
            _ = accept.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            Enabled = true;
        }
        catch (SocketException)
        {
            // No loopback socket to be had: the gateway's own listen will fail and say why.
        }
        finally
        {
            Environment.SetEnvironmentVariable(Variable, null);
        }
    }

    /// <summary>
    /// Moves every request but a POST to an MCP endpoint (whose front keeps only the direct lane on this thread) off the
    /// socket event thread before it runs.
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="next">The rest of the pipeline.</param>
    /// <returns>The request's task.</returns>
    public static Task LeaveIoThread(HttpContext context, RequestDelegate next) =>
        Thread.CurrentThread.IsThreadPoolThread || IsMcpPost(context.Request) ? next(context) : OnThePoolAsync(context, next);

    private static bool IsMcpPost(HttpRequest request) =>
        HttpMethods.IsPost(request.Method)
        && request.Path.Value is { } path
        && (path == "/mcp" || (path.StartsWith("/servers/", StringComparison.Ordinal) && path.EndsWith("/mcp", StringComparison.Ordinal)));

    private static async Task OnThePoolAsync(HttpContext context, RequestDelegate next)
    {
        await Task.Yield();
        await next(context).ConfigureAwait(false);
    }
}
