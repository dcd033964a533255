using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Atlas.Client;
using Atlas.Client.Pairing;
using Atlas.Desktop.Cli;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Hosting;

/// <summary>The first run in a terminal (issue 9, desktop side): a real <c>atlas serve</c> process whose startup fits an
/// 80×24 terminal, <c>atlas pair</c>'s QR code decoded by zbarimg from a picture of the terminal in a light and a dark
/// theme, and a phone waiting for approval announced by one terminal line and by <c>notify-send</c> (a fake on PATH that
/// records its arguments).</summary>
[Trait("Speed", "slow")]
public sealed class FirstRunTerminalTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Startup fits 80 columns and 24 lines, says when the pairing code expires and how to pair; <c>atlas pair</c>
    /// prints a QR code within 80 columns that zbarimg reads as the exact link in both terminal themes.</summary>
    [Fact]
    [Trait("Issue9", "first-run")]
    public async Task AtlasServe_Startup_FitsAn80x24Terminal_AndAtlasPairQrDecodesInLightAndDarkThemes()
    {
        Assert.SkipUnless(File.Exists("/usr/bin/zbarimg"), "zbarimg is not installed (Debian: zbar-tools).");
        await using var serve = await ServeProcess.StartAsync();

        var startup = serve.StartupLines;
        Assert.True(StartupOutput.TerminalRows(startup) <= StartupOutput.Rows, $"{startup.Count} lines:\n{string.Join('\n', startup)}");
        // Every line fits 80 columns but the pairing link (alone on its line so a terminal can open or copy it; its
        // wrapped rows count in the 24 above).
        Assert.Single(startup, l => PairingLink.TryParse(l, out _, out _));
        Assert.All(startup.Where(l => !PairingLink.TryParse(l, out _, out _)),
            l => Assert.True(StartupOutput.VisibleWidth(l) <= StartupOutput.Columns, $"{StartupOutput.VisibleWidth(l)} columns: {l}"));
        Assert.Contains(startup, l => l.Contains("valid until", StringComparison.Ordinal));
        Assert.Contains(startup, l => l.Contains("'atlas pair'", StringComparison.Ordinal));
        Assert.Contains(startup, l => l.Contains("/admin#code=", StringComparison.Ordinal));

        var pair = await serve.RunAsync("pair");
        var lines = pair.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var url = lines[^1];
        Assert.True(PairingLink.TryParse(url, out _, out var error), error);
        Assert.Contains(lines, l => l.StartsWith("Valid until ", StringComparison.Ordinal));
        var qr = lines.Where(l => l.Contains(Atlas.Desktop.Pairing.QrRenderer.DarkOnLight, StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(qr);
        Assert.All(lines.Where(l => l != url), l => Assert.True(StartupOutput.VisibleWidth(l) <= StartupOutput.Columns, $"{StartupOutput.VisibleWidth(l)} columns: {l}"));
        Assert.True(qr.Count <= 30, $"{qr.Count} QR lines"); // version 8 or 9: 53 or 57 modules with the quiet zone

        foreach (var (name, foreground, background) in new[] { ("dark-theme", (byte)0xE0, (byte)0x1E), ("light-theme", (byte)0x20, (byte)0xF8) })
        {
            var png = Path.Combine(AppContext.BaseDirectory, "screenshots", $"atlas-pair-qr-{name}.png");
            Directory.CreateDirectory(Path.GetDirectoryName(png)!);
            await File.WriteAllBytesAsync(png, TerminalPicture.Render(lines, foreground, background), Ct);
            Assert.Equal(url, await ZbarAsync(png));
        }
    }

    /// <summary>A phone waiting for approval makes <c>atlas serve</c> print one line with its name, check code and the
    /// approve command, and run notify-send with an argument list (the phone's name after <c>--</c>, so a name that
    /// looks like an option is text); approving with the printed command finishes the phone's pairing.</summary>
    [Fact]
    [Trait("Issue9", "first-run")]
    public async Task PhoneWaitingForApproval_PrintsOneTerminalLine_AndRunsNotifySendFromPath()
    {
        await using var serve = await ServeProcess.StartAsync(fakeNotifySend: true);
        var url = JsonDocument.Parse(await serve.RunAsync("pair", "--json")).RootElement.GetProperty("url").GetString()!;

        var checkCode = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var pairing = AtlasClient.PairAsync(PairingLink.Parse(url), "--help me", "android", code => checkCode.TrySetResult(code),
            AtlasTestHost.ClientOptions(), Ct);
        var code = await checkCode.Task.WaitAsync(TestTimeouts.Default, Ct);

        var line = await serve.WaitForLineAsync(l => l.Contains("Approval needed", StringComparison.Ordinal));
        Assert.Contains("'--help me' (android)", line, StringComparison.Ordinal);
        Assert.Contains($"check code {code}", line, StringComparison.Ordinal);
        var approve = System.Text.RegularExpressions.Regex.Match(line, @"atlas devices approve (\S+)");
        Assert.True(approve.Success, line);
        Assert.Contains("/admin", line, StringComparison.Ordinal);

        var arguments = await serve.NotifySendArgumentsAsync();
        var separator = arguments.IndexOf("--");
        Assert.True(separator >= 0, string.Join(" | ", arguments));
        Assert.All(arguments[..separator], a => Assert.StartsWith("--", a, StringComparison.Ordinal));
        Assert.Equal(2, arguments.Count - separator - 1);
        Assert.Equal("Approve --help me?", arguments[separator + 1]);
        Assert.Contains(code, arguments[separator + 2], StringComparison.Ordinal);
        Assert.Contains($"atlas devices approve {approve.Groups[1].Value}", arguments[separator + 2], StringComparison.Ordinal);

        Assert.Contains("Approved", await serve.RunAsync("devices", "approve", approve.Groups[1].Value), StringComparison.Ordinal);
        var credentials = await pairing.WaitAsync(TestTimeouts.Default, Ct);
        Assert.Equal(approve.Groups[1].Value, credentials.DeviceId);
    }

    private static async Task<string> ZbarAsync(string png)
    {
        var start = new ProcessStartInfo("zbarimg", ["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", png])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync(Ct);
        var error = await process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct).WaitAsync(TestTimeouts.Default, Ct);
        Assert.True(process.ExitCode == 0, $"zbarimg exited {process.ExitCode}: {error}");
        return output.TrimEnd('\n');
    }

    /// <summary>A picture of the terminal: each character cell 4 pixels wide and 8 high; ▀ ▄ █ fill their halves with the
    /// foreground colour; SGR 30/107 (black on bright white) and 0 (the theme's colours) are honoured.</summary>
    private static class TerminalPicture
    {
        private const int CellWidth = 4;
        private const int CellHeight = 8;
        private const int Margin = 2;

        public static byte[] Render(IReadOnlyList<string> lines, byte themeForeground, byte themeBackground)
        {
            var columns = lines.Max(StartupOutput.VisibleWidth) + (2 * Margin);
            var width = columns * CellWidth;
            var height = (lines.Count + (2 * Margin)) * CellHeight;
            var pixels = new byte[width * height];
            Array.Fill(pixels, themeBackground);
            for (var row = 0; row < lines.Count; row++)
            {
                var (foreground, background) = (themeForeground, themeBackground);
                var column = Margin;
                var line = lines[row];
                for (var i = 0; i < line.Length; i++)
                {
                    if (line[i] == '\u001b')
                    {
                        var end = line.IndexOf('m', i);
                        foreach (var code in line[(i + 2)..end].Split(';'))
                        {
                            (foreground, background) = code switch
                            {
                                "0" => (themeForeground, themeBackground),
                                "30" => ((byte)0x00, background),
                                "107" => (foreground, (byte)0xFF),
                                _ => (foreground, background),
                            };
                        }

                        i = end;
                        continue;
                    }

                    var x0 = column * CellWidth;
                    var y0 = (row + Margin) * CellHeight;
                    if (line[i] is '█' or '▀' or '▄' or ' ')
                    {
                        var (top, bottom) = line[i] switch
                        {
                            '█' => (foreground, foreground),
                            '▀' => (foreground, background),
                            '▄' => (background, foreground),
                            _ => (background, background),
                        };
                        for (var y = 0; y < CellHeight; y++)
                        {
                            Array.Fill(pixels, y < CellHeight / 2 ? top : bottom, ((y0 + y) * width) + x0, CellWidth);
                        }
                    }
                    else
                    {
                        // Text: a thin stroke in the middle of the cell, like a glyph's ink.
                        for (var y = 2; y < CellHeight - 2; y++)
                        {
                            pixels[((y0 + y) * width) + x0 + 1] = foreground;
                        }
                    }

                    column++;
                }
            }

            return Png(width, height, pixels);
        }

        /// <summary>An 8-bit greyscale PNG.</summary>
        private static byte[] Png(int width, int height, byte[] pixels)
        {
            using var raw = new MemoryStream();
            using (var z = new ZLibStream(raw, CompressionLevel.Fastest, leaveOpen: true))
            {
                for (var y = 0; y < height; y++)
                {
                    z.WriteByte(0);
                    z.Write(pixels, y * width, width);
                }
            }

            using var png = new MemoryStream();
            png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
            var header = new byte[13];
            BinaryPrimitives.WriteInt32BigEndian(header, width);
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
            header[8] = 8; // bit depth; colour type 0 (greyscale), compression, filter, interlace 0
            Chunk(png, "IHDR", header);
            Chunk(png, "IDAT", raw.ToArray());
            Chunk(png, "IEND", []);
            return png.ToArray();
        }

        private static void Chunk(Stream png, string type, byte[] data)
        {
            Span<byte> number = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(number, data.Length);
            png.Write(number);
            var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
            png.Write(typed);
            BinaryPrimitives.WriteUInt32BigEndian(number, Crc32(typed));
            png.Write(number);
        }

        private static uint Crc32(byte[] data)
        {
            var crc = 0xFFFFFFFFu;
            foreach (var b in data)
            {
                crc ^= b;
                for (var k = 0; k < 8; k++)
                {
                    crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
                }
            }

            return ~crc;
        }
    }

    /// <summary><c>dotnet atlas.dll serve</c> as a real child process in a fresh data directory (loopback only, no machine
    /// MCP configs), its stdout read line by line; with <c>fakeNotifySend</c> a recording notify-send comes first on PATH.</summary>
    private sealed class ServeProcess : IAsyncDisposable
    {
        private const string LastStartupLine = "Phones waiting for approval show up here";
        private readonly Process _process;
        private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
        private readonly List<string> _seen = [];
        private readonly string _dataDir;
        private readonly string _binDir;
        private readonly Task<string> _stderr;

        private ServeProcess(Process process, string dataDir, string binDir)
        {
            _process = process;
            _dataDir = dataDir;
            _binDir = binDir;
            _stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            _ = PumpAsync();
        }

        public List<string> StartupLines { get; private set; } = [];

        private string Atlas => Path.Combine(AppContext.BaseDirectory, "atlas.dll");

        public static async Task<ServeProcess> StartAsync(bool fakeNotifySend = false)
        {
            var dataDir = AtlasTestHost.NewDataDir();
            var binDir = Path.Combine(dataDir, "bin");
            Directory.CreateDirectory(binDir);
            if (fakeNotifySend)
            {
                // Each argument on its own NUL-terminated record; the file appears complete (renamed into place).
                var script = Path.Combine(binDir, "notify-send");
                await File.WriteAllTextAsync(script, $"#!/bin/sh\nprintf '%s\\0' \"$@\" > '{binDir}/args.tmp'\nmv '{binDir}/args.tmp' '{binDir}/args'\n", Ct);
                File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                StandardOutputEncoding = Encoding.UTF8,
            };
            foreach (var argument in new[]
            {
                Path.Combine(AppContext.BaseDirectory, "atlas.dll"), "serve", "--data-dir", dataDir, "--port", "0",
                "--Atlas:Network:Lan=false", "--Atlas:Hub:ImportClientConfigs=false", $"--Atlas:Hub:RegistryDirectories:0={dataDir}/registry",
                $"--Atlas:Hub:ConsentFile={dataDir}/consent.json", "--Atlas:Media:RegisterMcpServer=false", "--Atlas:Name=First run",
                $"--Atlas:Notifications:Desktop={fakeNotifySend}",
            })
            {
                start.ArgumentList.Add(argument);
            }

            start.Environment["PATH"] = binDir + ":" + Environment.GetEnvironmentVariable("PATH");
            start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            start.Environment.Remove("OPENROUTER_API_KEY");
            var serve = new ServeProcess(Process.Start(start)!, dataDir, binDir);
            await serve.WaitForLineAsync(l => l.Contains(LastStartupLine, StringComparison.Ordinal));
            serve.StartupLines = [.. serve._seen];
            return serve;
        }

        private async Task PumpAsync()
        {
            while (await _process.StandardOutput.ReadLineAsync(CancellationToken.None) is { } line)
            {
                _lines.Writer.TryWrite(line);
            }

            _lines.Writer.TryComplete();
        }

        public async Task<string> WaitForLineAsync(Func<string, bool> match)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(TestTimeouts.Default);
            try
            {
                while (await _lines.Reader.WaitToReadAsync(timeout.Token))
                {
                    while (_lines.Reader.TryRead(out var line))
                    {
                        _seen.Add(line);
                        if (match(line))
                        {
                            return line;
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
            {
            }

            throw new Xunit.Sdk.XunitException($"atlas serve did not print the expected line. Output:\n{string.Join('\n', _seen)}\n"
                + (_process.HasExited ? await _stderr : ""));
        }

        /// <summary>Runs another atlas command against this instance (its control socket) and returns its stdout.</summary>
        public async Task<string> RunAsync(params string[] args)
        {
            var start = new ProcessStartInfo("dotnet", [Atlas, .. args, "--data-dir", _dataDir])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                StandardOutputEncoding = Encoding.UTF8,
            };
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync(Ct);
            var error = process.StandardError.ReadToEndAsync(Ct);
            await process.WaitForExitAsync(Ct).WaitAsync(TestTimeouts.Default, Ct);
            Assert.True(process.ExitCode == 0, $"atlas {string.Join(' ', args)} exited {process.ExitCode}: {await error}");
            return await output;
        }

        /// <summary>The arguments notify-send was run with (waits for the recording to appear).</summary>
        public async Task<List<string>> NotifySendArgumentsAsync()
        {
            var path = Path.Combine(_binDir, "args");
            using var watcher = new FileSystemWatcher(_binDir) { EnableRaisingEvents = true };
            var appeared = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            watcher.Renamed += (_, e) => { if (e.FullPath == path) appeared.TrySetResult(); };
            if (!File.Exists(path))
            {
                await appeared.Task.WaitAsync(TestTimeouts.Default, Ct);
            }

            return [.. (await File.ReadAllTextAsync(path, Ct)).Split('\0', StringSplitOptions.None).SkipLast(1)];
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(CancellationToken.None);
            }

            _process.Dispose();
            try
            {
                Directory.Delete(_dataDir, recursive: true);
            }
            catch (IOException)
            {
                // Best effort.
            }
        }
    }
}
