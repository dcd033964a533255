using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mmcp.Gateway.Tests.DependencyInjection;

public sealed class GatewayRegistrationTests
{
    [Fact]
    public void MapWithoutAdd_ThrowsNamingTheMissingCall()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        using var app = builder.Build();

        var ex = Assert.Throws<InvalidOperationException>(() => app.MapMmcpGateway());

        Assert.Contains("AddMmcpGateway()", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidOptions_FailAtStartupSayingHowToFixThem()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddMmcpGateway(o =>
        {
            o.MaxRequestBodyBytes = 10;
            o.AllowedOrigins.Add("http://example.com/path");
        });
        await using var app = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            app.MapMmcpGateway();
            await app.StartAsync(TestContext.Current.CancellationToken);
        });

        Assert.Contains("MaxRequestBodyBytes", ex.Message, StringComparison.Ordinal);
        Assert.Contains("scheme://host[:port]", ex.Message, StringComparison.Ordinal);
    }
}
