using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mmcp.Gateway.Bench;

/// <summary>
/// A minimal MCP client over Streamable HTTP that costs almost no CPU, so the numbers measure the server, not the
/// client: hand-written JSON-RPC, keep-alive connections, JSON or SSE responses, one session per caller.
/// </summary>
internal sealed class RawMcpHttpClient : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _url;
    private readonly Dictionary<string, string> _extraHeaders;
    private string? _sessionId;
    private string _protocolVersion = "2025-06-18";
    private long _nextId;

    public RawMcpHttpClient(HttpClient http, Uri url, Dictionary<string, string>? extraHeaders = null)
    {
        _http = http;
        _url = url;
        _extraHeaders = extraHeaders ?? [];
    }

    /// <summary>Runs the 2025-era handshake (initialize + notifications/initialized) and keeps the session id.</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        var result = await SendAsync("initialize", new JsonObject
        {
            ["protocolVersion"] = _protocolVersion,
            ["capabilities"] = new JsonObject(),
            ["clientInfo"] = new JsonObject { ["name"] = "mmcp-bench", ["version"] = "1.0" },
        }, cancellationToken).ConfigureAwait(false);
        _protocolVersion = result?["protocolVersion"]?.GetValue<string>() ?? _protocolVersion;
        await NotifyAsync("notifications/initialized", cancellationToken).ConfigureAwait(false);
    }

    public Task<JsonNode?> CallToolAsync(string name, JsonObject arguments, CancellationToken cancellationToken) =>
        SendAsync("tools/call", new JsonObject { ["name"] = name, ["arguments"] = arguments }, cancellationToken);

    public async Task<JsonNode?> SendAsync(string method, JsonObject parameters, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _nextId);
        var body = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["method"] = method, ["params"] = parameters };
        using var request = NewRequest(body);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.Headers.TryGetValues("Mcp-Session-Id", out var session))
        {
            _sessionId ??= session.First();
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{method}: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)}");
        }

        var message = response.Content.Headers.ContentType?.MediaType == "text/event-stream"
            ? await ReadSseResponseAsync(response, id, cancellationToken).ConfigureAwait(false)
            : JsonNode.Parse(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
        if (message?["error"] is { } error)
        {
            throw new InvalidOperationException($"{method}: JSON-RPC error {error.ToJsonString()}");
        }

        return message?["result"];
    }

    public async Task NotifyAsync(string method, CancellationToken cancellationToken)
    {
        using var request = NewRequest(new JsonObject { ["jsonrpc"] = "2.0", ["method"] = method });
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    public async ValueTask DisposeAsync()
    {
        if (_sessionId is null)
        {
            return;
        }

        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Delete, _url);
            request.Headers.Add("Mcp-Session-Id", _sessionId);
            request.Headers.Add("MCP-Protocol-Version", _protocolVersion);
            using var _ = await _http.SendAsync(request).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
        }
    }

    private HttpRequestMessage NewRequest(JsonObject body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, _url)
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body.ToJsonString())) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
        };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (_sessionId is not null)
        {
            request.Headers.Add("Mcp-Session-Id", _sessionId);
            request.Headers.Add("MCP-Protocol-Version", _protocolVersion);
        }

        foreach (var (name, value) in _extraHeaders)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    private static async Task<JsonNode?> ReadSseResponseAsync(HttpResponseMessage response, long id, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                data.Append(line.AsSpan(5).TrimStart());
            }
            else if (line.Length == 0 && data.Length > 0)
            {
                var node = JsonNode.Parse(data.ToString());
                data.Clear();
                if (node?["id"] is { } nodeId && nodeId.GetValue<long>() == id)
                {
                    return node;
                }
            }
        }

        throw new InvalidOperationException("the SSE stream ended without the response");
    }
}

/// <summary>A raw client for the gateway's REST face: <c>POST /mcp/tools/call</c>.</summary>
internal sealed class RawRestClient(HttpClient http, Uri url)
{
    public async Task CallToolAsync(string name, JsonObject arguments, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["name"] = name, ["arguments"] = arguments };
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body.ToJsonString())) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };
        using var response = await http.PostAsync(url, content, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"tools/call: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)}");
        }

        await response.Content.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>A raw MCP client over a child process's stdio (the no-gateway baseline).</summary>
internal sealed class RawStdioClient : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Dictionary<long, TaskCompletionSource<JsonNode?>> _pending = [];
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Task _reader;
    private long _nextId;

    public RawStdioClient(string command, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(command, args) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        _process = Process.Start(start)!;
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        _reader = Task.Run(ReadLoopAsync);
    }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await SendAsync("initialize", new JsonObject
        {
            ["protocolVersion"] = "2025-06-18",
            ["capabilities"] = new JsonObject(),
            ["clientInfo"] = new JsonObject { ["name"] = "mmcp-bench", ["version"] = "1.0" },
        }, cancellationToken).ConfigureAwait(false);
        await WriteAsync(new JsonObject { ["jsonrpc"] = "2.0", ["method"] = "notifications/initialized" }).ConfigureAwait(false);
    }

    public Task<JsonNode?> CallToolAsync(string name, JsonObject arguments, CancellationToken cancellationToken) =>
        SendAsync("tools/call", new JsonObject { ["name"] = name, ["arguments"] = arguments }, cancellationToken);

    public async Task<JsonNode?> SendAsync(string method, JsonObject parameters, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _nextId);
        var tcs = new TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _pending[id] = tcs;
        }

        await WriteAsync(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["method"] = method, ["params"] = parameters }).ConfigureAwait(false);
        var message = await tcs.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return message?["error"] is { } error ? throw new InvalidOperationException(error.ToJsonString()) : message?["result"];
    }

    public async ValueTask DisposeAsync()
    {
        _process.StandardInput.Close();
        if (!_process.WaitForExit(2000))
        {
            _process.Kill(entireProcessTree: true);
        }

        await _reader.ConfigureAwait(false);
        _process.Dispose();
        _writeLock.Dispose();
    }

    private async Task WriteAsync(JsonObject message)
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            await _process.StandardInput.WriteLineAsync(message.ToJsonString()).ConfigureAwait(false);
            await _process.StandardInput.FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            JsonNode? node;
            try
            {
                node = JsonNode.Parse(line);
            }
            catch (JsonException)
            {
                continue;
            }

            if (node?["id"] is { } id && node["method"] is null)
            {
                TaskCompletionSource<JsonNode?>? tcs;
                lock (_lock)
                {
                    _pending.Remove(id.GetValue<long>(), out tcs);
                }

                tcs?.TrySetResult(node);
            }
        }
    }
}
