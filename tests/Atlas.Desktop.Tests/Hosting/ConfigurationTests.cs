using System.Globalization;
using System.Reflection;
using System.Text;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Tests.Hosting;

public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("Atlas:Pairing:Approval", "sometimes", "'prompt'")]
    [InlineData("Atlas:Port", "70000", "between 1 and 65535")]
    [InlineData("Atlas:Pairing:TicketLifetime", "-00:01:00", "positive duration")]
    [InlineData("Atlas:Pairing:DefaultPermissions:0", "root", "valid:")]
    [InlineData("Atlas:Certificate:Path", "/nonexistent/cert.pem", "does not exist")]
    [InlineData("Atlas:WebSocket:MaxFrameBytes", "10", "between 4096")]
    [InlineData("Atlas:Name", "Desk\u202Epot", "changing the text direction")]
    public void InvalidSetting_FailsAtStartupWithHowToFix(string key, string value, string hint) => AssertInvalid(key, value, hint);

    /// <summary>Regression: a list setting given as one value (<c>Atlas:Pairing:DefaultPermissions=root</c>) was ignored
    /// instead of checked, and an unknown interface name given that way was ignored too (Atlas listened on every private
    /// adapter).</summary>
    [Theory]
    [Trait("Hardening", "13")]
    [InlineData("Atlas:Pairing:DefaultPermissions", "root", "Atlas:Pairing:DefaultPermissions has 'root'; valid:")]
    [InlineData("Atlas:Pairing:DefaultPermissions", "chat,root", "Atlas:Pairing:DefaultPermissions has 'root'; valid:")]
    [InlineData("Atlas:Network:Interfaces", "nosuchadapter0", "Atlas:Network:Interfaces lists 'nosuchadapter0'")]
    [InlineData("Atlas:Network:Interfaces:0", "nosuchadapter0", "Atlas:Network:Interfaces lists 'nosuchadapter0'")]
    public void UnknownListEntry_GivenInAnyForm_FailsAtStartupNamingTheSetting(string key, string value, string hint) =>
        AssertInvalid(key, value, hint);

    private static void AssertInvalid(string key, string value, string hint)
    {
        var error = Assert.Throws<OptionsValidationException>(() => AtlasApp.Build([], new Dictionary<string, string?>
        {
            ["Atlas:DataDir"] = Path.Combine(Path.GetTempPath(), "atl-cfg-" + Guid.NewGuid().ToString("N")[..6]),
            [key] = value,
        }));
        Assert.Contains(hint, string.Join('\n', error.Failures), StringComparison.Ordinal);
    }

    /// <summary>Every documented setting, by name, with a value other than its default and what the options then hold.
    /// List settings appear in each form a user may write them.</summary>
    private static readonly Dictionary<string, (string Key, string Value, Func<AtlasOptions, string?> Actual, string Expected)> Settings = new()
    {
        ["DataDir"] = ("Atlas:DataDir", "/tmp/atlas-cfg", o => o.DataDir, "/tmp/atlas-cfg"),
        ["Port"] = ("Atlas:Port", "5001", o => Text(o.Port), "5001"),
        ["Name"] = ("Atlas:Name", "Studio", o => o.Name, "Studio"),
        ["Network:Lan"] = ("Atlas:Network:Lan", "false", o => Text(o.Network.Lan), "False"),
        ["Network:Interfaces one"] = ("Atlas:Network:Interfaces", "eth0", o => Join(o.Network.Interfaces), "eth0"),
        ["Network:Interfaces comma"] = ("Atlas:Network:Interfaces", "eth0, 192.168.1.5", o => Join(o.Network.Interfaces), "eth0|192.168.1.5"),
        ["Network:Interfaces indexed"] = ("Atlas:Network:Interfaces:0", "wlan0", o => Join(o.Network.Interfaces), "wlan0"),
        ["Network:AllowCgnat"] = ("Atlas:Network:AllowCgnat", "true", o => Text(o.Network.AllowCgnat), "True"),
        ["Network:AllowedHosts one"] = ("Atlas:Network:AllowedHosts", "atlas.example.org", o => Join(o.Network.AllowedHosts), "atlas.example.org"),
        ["Network:AllowedHosts comma"] = ("Atlas:Network:AllowedHosts", "a.example.org,b.example.org", o => Join(o.Network.AllowedHosts), "a.example.org|b.example.org"),
        ["Certificate:Path"] = ("Atlas:Certificate:Path", "/etc/atlas/cert.pem", o => o.Certificate.Path, "/etc/atlas/cert.pem"),
        ["Certificate:KeyPath"] = ("Atlas:Certificate:KeyPath", "/etc/atlas/key.pem", o => o.Certificate.KeyPath, "/etc/atlas/key.pem"),
        ["Certificate:Password"] = ("Atlas:Certificate:Password", "s3cret", o => o.Certificate.Password, "s3cret"),
        ["Tls:Mode"] = ("Atlas:Tls:Mode", "local-ca", o => o.Tls.Mode, "local-ca"),
        ["Tls:CertificateLifetime"] = ("Atlas:Tls:CertificateLifetime", "2.00:00:00", o => Text(o.Tls.CertificateLifetime), "2.00:00:00"),
        ["Notifications:Desktop"] = ("Atlas:Notifications:Desktop", "false", o => Text(o.Notifications.Desktop), "False"),
        ["Notifications:Command"] = ("Atlas:Notifications:Command", "/usr/local/bin/notify", o => o.Notifications.Command, "/usr/local/bin/notify"),
        ["Pairing:Approval"] = ("Atlas:Pairing:Approval", "auto", o => o.Pairing.Approval, "auto"),
        ["Pairing:TicketLifetime"] = ("Atlas:Pairing:TicketLifetime", "00:05:00", o => Text(o.Pairing.TicketLifetime), "00:05:00"),
        ["Pairing:ApprovalTimeout"] = ("Atlas:Pairing:ApprovalTimeout", "00:01:00", o => Text(o.Pairing.ApprovalTimeout), "00:01:00"),
        ["Pairing:MaxFailures"] = ("Atlas:Pairing:MaxFailures", "7", o => Text(o.Pairing.MaxFailures), "7"),
        ["Pairing:MaxFailingAddresses"] = ("Atlas:Pairing:MaxFailingAddresses", "4", o => Text(o.Pairing.MaxFailingAddresses), "4"),
        ["Pairing:FailureWindow"] = ("Atlas:Pairing:FailureWindow", "00:20:00", o => Text(o.Pairing.FailureWindow), "00:20:00"),
        ["Pairing:DefaultPermissions one"] = ("Atlas:Pairing:DefaultPermissions", "chat", o => Join(o.Pairing.DefaultPermissions), "chat"),
        ["Pairing:DefaultPermissions comma"] = ("Atlas:Pairing:DefaultPermissions", "chat,files.read", o => Join(o.Pairing.DefaultPermissions), "chat|files.read"),
        ["Pairing:DefaultPermissions indexed"] = ("Atlas:Pairing:DefaultPermissions:0", "chat", o => Join(o.Pairing.DefaultPermissions), "chat"),
        ["Pairing:DefaultPermissions empty"] = ("Atlas:Pairing:DefaultPermissions", "", o => Join(o.Pairing.DefaultPermissions), ""),
        ["Sessions:Lifetime"] = ("Atlas:Sessions:Lifetime", "01:00:00", o => Text(o.Sessions.Lifetime), "01:00:00"),
        ["WebSocket:AuthTimeout"] = ("Atlas:WebSocket:AuthTimeout", "00:00:20", o => Text(o.WebSocket.AuthTimeout), "00:00:20"),
        ["WebSocket:HeartbeatInterval"] = ("Atlas:WebSocket:HeartbeatInterval", "00:00:30", o => Text(o.WebSocket.HeartbeatInterval), "00:00:30"),
        ["WebSocket:HeartbeatMisses"] = ("Atlas:WebSocket:HeartbeatMisses", "5", o => Text(o.WebSocket.HeartbeatMisses), "5"),
        ["WebSocket:MaxFrameBytes"] = ("Atlas:WebSocket:MaxFrameBytes", "65536", o => Text(o.WebSocket.MaxFrameBytes), "65536"),
        ["WebSocket:MaxConnectionsPerDevice"] = ("Atlas:WebSocket:MaxConnectionsPerDevice", "2", o => Text(o.WebSocket.MaxConnectionsPerDevice), "2"),
        ["WebSocket:MaxConnections"] = ("Atlas:WebSocket:MaxConnections", "100", o => Text(o.WebSocket.MaxConnections), "100"),
        ["WebSocket:MaxUnauthenticatedConnections"] = ("Atlas:WebSocket:MaxUnauthenticatedConnections", "16", o => Text(o.WebSocket.MaxUnauthenticatedConnections), "16"),
        ["WebSocket:MaxUnauthenticatedConnectionsPerAddress"] = ("Atlas:WebSocket:MaxUnauthenticatedConnectionsPerAddress", "8", o => Text(o.WebSocket.MaxUnauthenticatedConnectionsPerAddress), "8"),
        ["WebSocket:MaxFramesPerSecond"] = ("Atlas:WebSocket:MaxFramesPerSecond", "20", o => Text(o.WebSocket.MaxFramesPerSecond), "20"),
        ["WebSocket:ReplaceSilentAfter"] = ("Atlas:WebSocket:ReplaceSilentAfter", "00:01:00", o => Text(o.WebSocket.ReplaceSilentAfter), "00:01:00"),
        ["WebSocket:IdempotencyBytesPerDevice"] = ("Atlas:WebSocket:IdempotencyBytesPerDevice", "1048576", o => Text(o.WebSocket.IdempotencyBytesPerDevice), "1048576"),
        ["WebSocket:IdempotencyBytes"] = ("Atlas:WebSocket:IdempotencyBytes", "8388608", o => Text(o.WebSocket.IdempotencyBytes), "8388608"),
        ["WebSocket:IdempotencyMaxAnswerBytes"] = ("Atlas:WebSocket:IdempotencyMaxAnswerBytes", "4096", o => Text(o.WebSocket.IdempotencyMaxAnswerBytes), "4096"),
        ["WebSocket:IdempotencyLifetime"] = ("Atlas:WebSocket:IdempotencyLifetime", "00:05:00", o => Text(o.WebSocket.IdempotencyLifetime), "00:05:00"),
        ["WebSocket:SendQueueLength"] = ("Atlas:WebSocket:SendQueueLength", "64", o => Text(o.WebSocket.SendQueueLength), "64"),
        ["Files:DefaultQuotaBytes"] = ("Atlas:Files:DefaultQuotaBytes", "1000", o => Text(o.Files.DefaultQuotaBytes), "1000"),
        ["Files:MaxFileBytes"] = ("Atlas:Files:MaxFileBytes", "2000", o => Text(o.Files.MaxFileBytes), "2000"),
        ["Files:MaxFrameReadBytes"] = ("Atlas:Files:MaxFrameReadBytes", "4096", o => Text(o.Files.MaxFrameReadBytes), "4096"),
        ["Files:MaxEntries"] = ("Atlas:Files:MaxEntries", "10", o => Text(o.Files.MaxEntries), "10"),
        ["Files:MaxOpenUploads"] = ("Atlas:Files:MaxOpenUploads", "3", o => Text(o.Files.MaxOpenUploads), "3"),
        ["Files:UploadLifetime"] = ("Atlas:Files:UploadLifetime", "02:00:00", o => Text(o.Files.UploadLifetime), "02:00:00"),
        ["RateLimits:AuthPerMinute"] = ("Atlas:RateLimits:AuthPerMinute", "5", o => Text(o.RateLimits.AuthPerMinute), "5"),
        ["RateLimits:PairingPerMinute"] = ("Atlas:RateLimits:PairingPerMinute", "6", o => Text(o.RateLimits.PairingPerMinute), "6"),
        ["RateLimits:UploadsPerMinute"] = ("Atlas:RateLimits:UploadsPerMinute", "7", o => Text(o.RateLimits.UploadsPerMinute), "7"),
        ["RateLimits:RequestsPerMinute"] = ("Atlas:RateLimits:RequestsPerMinute", "8", o => Text(o.RateLimits.RequestsPerMinute), "8"),
        ["Llm:ApiKey"] = ("Atlas:Llm:ApiKey", "sk-test", o => o.Llm.ApiKey, "sk-test"),
        ["Llm:BaseUrl"] = ("Atlas:Llm:BaseUrl", "http://127.0.0.1:11434/v1", o => o.Llm.BaseUrl, "http://127.0.0.1:11434/v1"),
        ["Llm:Model"] = ("Atlas:Llm:Model", "llama3", o => o.Llm.Model, "llama3"),
        ["Llm:AllowedModels one"] = ("Atlas:Llm:AllowedModels", "openai/gpt-4o", o => Join(o.Llm.AllowedModels), "openai/gpt-4o"),
        ["Llm:AllowedModels comma"] = ("Atlas:Llm:AllowedModels", "openai/gpt-4o,llama3", o => Join(o.Llm.AllowedModels), "openai/gpt-4o|llama3"),
        ["Llm:Referer"] = ("Atlas:Llm:Referer", "https://example.org", o => o.Llm.Referer, "https://example.org"),
        ["Llm:Title"] = ("Atlas:Llm:Title", "Mine", o => o.Llm.Title, "Mine"),
        ["Llm:IdleTimeout"] = ("Atlas:Llm:IdleTimeout", "00:01:00", o => Text(o.Llm.IdleTimeout), "00:01:00"),
        ["Llm:MaxRetries"] = ("Atlas:Llm:MaxRetries", "0", o => Text(o.Llm.MaxRetries), "0"),
        ["Llm:MaxRetryDelay"] = ("Atlas:Llm:MaxRetryDelay", "00:00:03", o => Text(o.Llm.MaxRetryDelay), "00:00:03"),
        ["Llm:ModelsCacheDuration"] = ("Atlas:Llm:ModelsCacheDuration", "00:05:00", o => Text(o.Llm.ModelsCacheDuration), "00:05:00"),
        ["Chat:SystemPrompt"] = ("Atlas:Chat:SystemPrompt", "Be brief.", o => o.Chat.SystemPrompt, "Be brief."),
        ["Chat:HistoryTokenBudget"] = ("Atlas:Chat:HistoryTokenBudget", "4000", o => Text(o.Chat.HistoryTokenBudget), "4000"),
        ["Chat:MaxToolRounds"] = ("Atlas:Chat:MaxToolRounds", "0", o => Text(o.Chat.MaxToolRounds), "0"),
        ["Chat:MaxMessageChars"] = ("Atlas:Chat:MaxMessageChars", "1000", o => Text(o.Chat.MaxMessageChars), "1000"),
        ["Chat:MaxAttachments"] = ("Atlas:Chat:MaxAttachments", "2", o => Text(o.Chat.MaxAttachments), "2"),
        ["Chat:MaxImages"] = ("Atlas:Chat:MaxImages", "1", o => Text(o.Chat.MaxImages), "1"),
        ["Chat:MaxImageBytes"] = ("Atlas:Chat:MaxImageBytes", "1048576", o => Text(o.Chat.MaxImageBytes), "1048576"),
        ["Chat:MaxContextChars"] = ("Atlas:Chat:MaxContextChars", "9000", o => Text(o.Chat.MaxContextChars), "9000"),
        ["Chat:ReplayWindow"] = ("Atlas:Chat:ReplayWindow", "00:02:00", o => Text(o.Chat.ReplayWindow), "00:02:00"),
        ["Chat:ReplayBufferBytes"] = ("Atlas:Chat:ReplayBufferBytes", "65536", o => Text(o.Chat.ReplayBufferBytes), "65536"),
        ["Chat:CheckpointInterval"] = ("Atlas:Chat:CheckpointInterval", "00:00:01", o => Text(o.Chat.CheckpointInterval), "00:00:01"),
        ["Chat:RequestRetention"] = ("Atlas:Chat:RequestRetention", "1.00:00:00", o => Text(o.Chat.RequestRetention), "1.00:00:00"),
        ["Chat:MaxConcurrentAnswersPerDevice"] = ("Atlas:Chat:MaxConcurrentAnswersPerDevice", "3", o => Text(o.Chat.MaxConcurrentAnswersPerDevice), "3"),
        ["Chat:AnswersPerMinutePerDevice"] = ("Atlas:Chat:AnswersPerMinutePerDevice", "30", o => Text(o.Chat.AnswersPerMinutePerDevice), "30"),
        ["Hub:RegistryDirectories one"] = ("Atlas:Hub:RegistryDirectories", "/srv/mcp", o => Join(o.Hub.RegistryDirectories), "/srv/mcp"),
        ["Hub:RegistryDirectories comma"] = ("Atlas:Hub:RegistryDirectories", "/srv/mcp,/opt/mcp", o => Join(o.Hub.RegistryDirectories), "/srv/mcp|/opt/mcp"),
        ["Hub:ImportClientConfigs"] = ("Atlas:Hub:ImportClientConfigs", "false", o => Text(o.Hub.ImportClientConfigs), "False"),
        ["Hub:ConsentFile"] = ("Atlas:Hub:ConsentFile", "/tmp/consent.json", o => o.Hub.ConsentFile, "/tmp/consent.json"),
        ["Hub:ConsentPolicy"] = ("Atlas:Hub:ConsentPolicy", "AskFirst", o => Text(o.Hub.ConsentPolicy), "AskFirst"),
        ["Hub:McpRequestsPerDevice"] = ("Atlas:Hub:McpRequestsPerDevice", "6", o => Text(o.Hub.McpRequestsPerDevice), "6"),
        ["Telemetry:Prometheus"] = ("Atlas:Telemetry:Prometheus", "true", o => Text(o.Telemetry.Prometheus), "True"),
        ["Telemetry:PrometheusPort"] = ("Atlas:Telemetry:PrometheusPort", "9465", o => Text(o.Telemetry.PrometheusPort), "9465"),
    };

    public static TheoryData<string, string> SettingsInEveryForm()
    {
        var data = new TheoryData<string, string>();
        foreach (var name in Settings.Keys)
        {
            foreach (var form in new[] { "environment", "command line", "command line with =" })
            {
                data.Add(name, form);
            }
        }

        return data;
    }

    /// <summary>Regression: list settings given as one value (<c>Atlas:Pairing:DefaultPermissions=chat</c>,
    /// <c>Atlas:Network:Interfaces=x</c>) were ignored, and the array form was appended to the built-in list.</summary>
    [Theory]
    [Trait("Hardening", "13")]
    [MemberData(nameof(SettingsInEveryForm))]
    public void DocumentedSetting_InEnvironmentOrCommandLine_ReplacesTheDefault(string name, string form)
    {
        var (key, value, actual, expected) = Settings[name];

        // A prefix of its own keeps the variable away from every other host this test process starts.
        var prefix = "ATLAS_CFG_" + Guid.NewGuid().ToString("N")[..8] + "_";
        var variable = prefix + key.Replace(":", "__", StringComparison.Ordinal);
        var builder = new ConfigurationBuilder();
        try
        {
            switch (form)
            {
                case "environment":
                    Environment.SetEnvironmentVariable(variable, value.Length == 0 ? " " : value);
                    builder.AddEnvironmentVariables(prefix);
                    break;
                case "command line":
                    builder.AddCommandLine(["--" + key, value]);
                    break;
                default:
                    builder.AddCommandLine(["--" + key + "=" + value]);
                    break;
            }

            var options = AtlasConfiguration.Read(builder.Build());
            Assert.Equal(expected, actual(options));
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    /// <summary>Regression: the JSON array form appended to the built-in permissions
    /// (<c>[chat, files.read, files.write, media.process, chat]</c>), and a later source could not shorten a list an
    /// earlier one set.</summary>
    [Fact]
    [Trait("Hardening", "13")]
    public void ListSetting_InJsonThenOverriddenLater_TheLastSourceWinsWhole()
    {
        var json = """{"Atlas":{"Pairing":{"DefaultPermissions":["chat"]},"Network":{"Interfaces":["eth0","eth1","eth2"]}}}""";
        var fromJson = AtlasConfiguration.Read(new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build());
        Assert.Equal(["chat"], fromJson.Pairing.DefaultPermissions);
        Assert.Equal(["eth0", "eth1", "eth2"], fromJson.Network.Interfaces);

        var layered = AtlasConfiguration.Read(new ConfigurationBuilder()
            .AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json)))
            .AddCommandLine(["--Atlas:Network:Interfaces:0", "wlan0", "--Atlas:Pairing:DefaultPermissions", "files.read,chat"])
            .Build());
        Assert.Equal(["wlan0"], layered.Network.Interfaces);
        Assert.Equal(["files.read", "chat"], layered.Pairing.DefaultPermissions);

        var untouched = AtlasConfiguration.Read(new ConfigurationBuilder().Build());
        Assert.Equal(new AtlasOptions().Pairing.DefaultPermissions, untouched.Pairing.DefaultPermissions);
    }

    /// <summary>Regression: list settings were bound by appending to their defaults; this keeps every list setting,
    /// including ones added later, on the replacing path.</summary>
    [Fact]
    [Trait("Hardening", "13")]
    public void EveryListSetting_IsReadWholeByAtlasConfiguration()
    {
        var found = new List<string>();
        void Walk(Type type, string path)
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
            {
                var key = path + ":" + property.Name;
                var propertyType = property.PropertyType;
                if (propertyType != typeof(string) && propertyType.IsAssignableTo(typeof(System.Collections.IEnumerable)))
                {
                    found.Add(key);
                }
                else if (propertyType.IsClass && propertyType != typeof(string) && propertyType.Namespace?.StartsWith("Atlas", StringComparison.Ordinal) == true)
                {
                    Walk(propertyType, key);
                }
            }
        }

        Walk(typeof(AtlasOptions), AtlasOptions.Section);
        Walk(typeof(Atlas.Media.AtlasMediaOptions), AtlasOptions.Section + ":Media");
        Assert.NotEmpty(found);
        Assert.Equal(found.Order(StringComparer.Ordinal),
            AtlasConfiguration.Lists.Select(l => l.Key).Concat(AtlasConfiguration.MediaLists.Select(l => l.Key)).Order(StringComparer.Ordinal));
    }

    /// <summary>Keeps the table above complete: every setting of <see cref="AtlasOptions"/> is tried in every form, so a
    /// setting that binds wrongly (like the list settings did) cannot hide.</summary>
    [Fact]
    [Trait("Hardening", "13")]
    public void EverySetting_HasARowInTheFormsTable()
    {
        var found = new List<string>();
        void Walk(Type type, string path)
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
            {
                var key = path + ":" + property.Name;
                var propertyType = property.PropertyType;
                if (propertyType.IsClass && propertyType != typeof(string) && propertyType.Namespace?.StartsWith("Atlas", StringComparison.Ordinal) == true)
                {
                    Walk(propertyType, key);
                }
                else
                {
                    found.Add(key);
                }
            }
        }

        Walk(typeof(AtlasOptions), AtlasOptions.Section);
        var covered = Settings.Values.Select(s => s.Key.EndsWith(":0", StringComparison.Ordinal) ? s.Key[..^2] : s.Key).ToHashSet(StringComparer.Ordinal);
        var missing = found.Where(key => !covered.Contains(key)).ToList();
        Assert.True(missing.Count == 0, "No row in the forms table for: " + string.Join(", ", missing));
    }

    /// <summary>Regression: <c>--Atlas:Pairing:DefaultPermissions chat</c> on the command line was ignored by the options
    /// the running services read, so new devices still got every default permission.</summary>
    [Fact]
    [Trait("Hardening", "13")]
    public async Task Build_ListSettingsOnCommandLine_ServicesSeeExactlyTheConfiguredValues()
    {
        var dataDir = AtlasTestHost.NewDataDir();
        try
        {
            await using var app = AtlasApp.Build(
                ["--Atlas:Pairing:DefaultPermissions", "chat", "--Atlas:Llm:AllowedModels", "a/b,c/d", "--Atlas:Media:AllowedRoots", "/srv/media"],
                new Dictionary<string, string?> { ["Atlas:DataDir"] = dataDir, ["Atlas:Port"] = "0", ["Atlas:Network:Lan"] = "false" });
            var options = app.Services.GetRequiredService<IOptions<AtlasOptions>>().Value;
            Assert.Equal(["chat"], options.Pairing.DefaultPermissions);
            Assert.Equal(["a/b", "c/d"], options.Llm.AllowedModels);
            Assert.Equal(["/srv/media"], app.Services.GetRequiredService<IOptions<Atlas.Media.AtlasMediaOptions>>().Value.AllowedRoots);
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task Restart_KeepsIdentityPinAndDevices()
    {
        string dataDir, pin, deviceId;
        await using (var first = await AtlasTestHost.StartAsync())
        {
            dataDir = first.DataDir;
            pin = first.Pin;
            deviceId = (await first.PairAsync()).DeviceId;
            await first.App.StopAsync(TestContext.Current.CancellationToken);
            CopyDirectory(dataDir, dataDir + "-copy");
        }

        await using var second = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:DataDir"] = dataDir + "-copy" });
        Assert.Equal(pin, second.Pin);
        Assert.NotNull(await second.Get<Storage.IDeviceStore>().GetAsync(deviceId, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task SecondInstanceOnSameDataDirectory_IsRefusedClearly()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var error = Assert.Throws<InvalidOperationException>(() => AtlasApp.Build([], new Dictionary<string, string?>
        {
            ["Atlas:DataDir"] = host.DataDir,
            ["Atlas:Port"] = "0",
            ["Atlas:Network:Lan"] = "false",
        }));
        Assert.Contains("already running", error.Message, StringComparison.Ordinal);
    }

    private static string Text<T>(T value) => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";

    private static string Text(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);

    private static string Join(IEnumerable<string> values) => string.Join('|', values);

    private static void CopyDirectory(string from, string to)
    {
        foreach (var directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(directory.Replace(from, to, StringComparison.Ordinal));
        }

        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".sock", StringComparison.Ordinal)))
        {
            File.Copy(file, file.Replace(from, to, StringComparison.Ordinal));
        }
    }
}
