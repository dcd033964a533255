using System.IO.Pipelines;
using System.Text;
using Mmcp.Gateway.Fronts;

namespace Mmcp.Gateway.Tests.Fidelity;

/// <summary>The stdio face's front passes each message on to the SDK as the client sent it, whatever pieces it arrived in.</summary>
public sealed class StdioFrontTests
{
    /// <summary>Messages that arrive in small pieces (split inside multi-byte characters), with CRLF endings and blank lines between them, reach the SDK whole, one line each.</summary>
    [Fact]
    [Trait("Issue12", "8")]
    public async Task Run_MessagesInPiecesWithCrlfAndBlankLines_ReachTheSdkWholeOneLineEach()
    {
        var ct = TestContext.Current.CancellationToken;
        var stdin = new Pipe();
        using var stdout = new MemoryStream();
        await using var front = new StdioFront(stdin.Reader.AsStream(), stdout);
        var run = front.RunAsync(ct);
        const string Message = """{"jsonrpc":"2.0","method":"notifications/message","params":{"text":"héllo – 東京"}}""";
        var bytes = Encoding.UTF8.GetBytes(Message + "\r\n\n   \n" + Message + "\n" + Message);

        for (var i = 0; i < bytes.Length; i += 7)
        {
            await stdin.Writer.WriteAsync(bytes.AsMemory(i, Math.Min(7, bytes.Length - i)), ct);
        }

        await stdin.Writer.CompleteAsync();
        await run.WaitAsync(TestTimeouts.Default, ct);
        using var forwarded = new StreamReader(front.Input, Encoding.UTF8);
        var text = await forwarded.ReadToEndAsync(ct).WaitAsync(TestTimeouts.Default, ct);

        Assert.Equal($"{Message}\n{Message}\n{Message}\n", text);
        Assert.Equal(0, stdout.Length);
    }
}
