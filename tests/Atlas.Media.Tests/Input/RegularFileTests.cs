using System.Text;
using Microsoft.Extensions.Logging;

namespace Atlas.Media.Tests.Input;

/// <summary>Inputs are checked from their metadata and header before anything is copied, and errors name the caller's input.</summary>
[Trait("Speed", "slow")]
public sealed class RegularFileTests(MediaFixture media) : IAsyncLifetime
{
    private readonly CapturingLoggerFactory _logs = new();
    private PipelineHarness _harness = null!;

    public ValueTask InitializeAsync()
    {
        _harness = new PipelineHarness(loggerFactory: _logs);
        Directory.CreateDirectory(_harness.Root);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    /// <summary>Regression: a 2 GiB sparse file cost 3 s and 512 MiB written per request before it was refused.</summary>
    [Fact]
    [Trait("Issue11", "5")]
    public async Task Submit_SparseTwoGibFile_IsRefusedFromItsSizeWithNothingStaged()
    {
        var path = Path.Combine(_harness.Root, "huge.mp4");
        await using (var file = File.Create(path))
        {
            file.SetLength(2L * 1024 * 1024 * 1024); // sparse: no blocks on disk
        }

        var ex = await Assert.ThrowsAsync<MediaException>(() => _harness.RunAsync(MediaTask.Analyze, path));
        Assert.Equal(MediaErrorCode.TooLarge, ex.Code);
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("2048 MiB", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_harness.Options.WorkDirectory) && Directory.EnumerateFileSystemEntries(_harness.Options.WorkDirectory!).Any(), "no job directory was created");
    }

    /// <summary>An upload stream that says it is too large is refused without a byte being read.</summary>
    [Fact]
    [Trait("Issue11", "5")]
    public async Task Submit_OversizeSeekableStream_IsRefusedWithoutReadingIt()
    {
        await using var content = new HugeStream(2L * 1024 * 1024 * 1024);
        var ex = await Assert.ThrowsAsync<MediaException>(() => _harness.Pipeline.ProcessAsync(
            new MediaRequest { Task = MediaTask.Ocr, Content = content, FileName = "big.jpg" }, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(MediaErrorCode.TooLarge, ex.Code);
        Assert.Contains("'big.jpg'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, content.Reads);
    }

    /// <summary>Bytes of an unsupported format are refused from the header, before the rest is copied.</summary>
    [Fact]
    [Trait("Issue11", "5")]
    public async Task Submit_UnsupportedHeader_IsRefusedBeforeTheRestIsRead()
    {
        var bytes = new byte[1024 * 1024];
        Encoding.ASCII.GetBytes("just some text, not media").CopyTo(bytes, 0);
        await using var content = new CountingStream(bytes);
        var ex = await Assert.ThrowsAsync<MediaException>(() => _harness.Pipeline.ProcessAsync(
            new MediaRequest { Task = MediaTask.Ocr, Content = content, FileName = "notes.txt" }, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(MediaErrorCode.UnsupportedFormat, ex.Code);
        Assert.True(content.Position <= 64 * 1024, $"read {content.Position} bytes");
    }

    /// <summary>Regression: a FIFO under an allowed folder hung the call forever (the open blocks until a writer comes).</summary>
    [Fact]
    [Trait("Issue11", "6")]
    public async Task Submit_Fifo_IsRefusedWithoutOpeningIt()
    {
        var fifo = Path.Combine(_harness.Root, "photo.jpg");
        await Tools.RunAsync("mkfifo", [fifo]);
        var ex = await Assert.ThrowsAsync<MediaException>(() => _harness.RunAsync(MediaTask.Ocr, fifo).WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken));
        Assert.Equal(MediaErrorCode.InvalidRequest, ex.Code);
        Assert.Contains("not a regular file", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Regression: a directory path said "does not exist".</summary>
    [Fact]
    [Trait("Issue11", "7")]
    public async Task Submit_DirectoryPath_SaysItIsADirectory()
    {
        var ex = await Assert.ThrowsAsync<MediaException>(() => _harness.RunAsync(MediaTask.Ocr, media.Directory));
        Assert.Equal(MediaErrorCode.InvalidRequest, ex.Code);
        Assert.Contains("is a directory", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Regression: tool errors quoted the job's private copy (file:/tmp/atlas-media-…/input); now they name the caller's input.</summary>
    [Fact]
    [Trait("Issue11", "7")]
    public async Task Process_ToolRejectsFile_ErrorNamesTheInputNotTheWorkPath()
    {
        // An ftyp box followed by junk: sniffed as MP4, and ffprobe's complaint quotes the file it was given.
        var ftyp = new byte[] { 0, 0, 0, 0x18, (byte)'f', (byte)'t', (byte)'y', (byte)'p', (byte)'i', (byte)'s', (byte)'o', (byte)'m', 0, 0, 2, 0, (byte)'i', (byte)'s', (byte)'o', (byte)'m', (byte)'m', (byte)'p', (byte)'4', (byte)'1' };
        await using var content = new MemoryStream([.. ftyp, .. Encoding.ASCII.GetBytes(new string('x', 4000))]);
        var ex = await Assert.ThrowsAsync<MediaException>(() => _harness.Pipeline.ProcessAsync(
            new MediaRequest { Task = MediaTask.Analyze, Content = content, FileName = "clips/holiday.mp4" }, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(MediaErrorCode.CorruptInput, ex.Code);
        Assert.DoesNotContain(_harness.Options.WorkDirectory!, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("/input", ex.Message, StringComparison.Ordinal);
        Assert.Contains("clips/holiday.mp4", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Regression: bad input was logged as a failure with a stack trace; it is an expected answer.</summary>
    [Fact]
    [Trait("Issue11", "7")]
    public async Task Process_UnsupportedBytes_IsLoggedAtInformationInOneLineWithoutException()
    {
        await using var content = new MemoryStream(Encoding.ASCII.GetBytes("hello, this is not a picture"));
        await Assert.ThrowsAsync<MediaException>(() => _harness.Pipeline.ProcessAsync(
            new MediaRequest { Task = MediaTask.Ocr, Content = content, FileName = "x.jpg" }, cancellationToken: TestContext.Current.CancellationToken));
        var entry = Assert.Single(_logs.Entries, e => e.Message.Contains("unsupported_format", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Information, entry.Level);
        Assert.Null(entry.Exception);
        Assert.DoesNotContain('\n', entry.Message);
        Assert.DoesNotContain(_logs.Entries, e => e.Level >= LogLevel.Warning);
    }

    private sealed class HugeStream(long length) : Stream
    {
        public int Reads { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get; set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            Reads++;
            return 0;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private sealed class CountingStream(byte[] bytes) : MemoryStream(bytes, writable: false);
}
