using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Mmcp.Server.Bench.Server;

// The same server two ways: `--reflection` registers the tools with the SDK's WithToolsFromAssembly() (reflection over
// the assembly, AIFunctionFactory schemas and binding); the default uses the generated registration.
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.ClearProviders();
if (args.Contains("--reflection"))
{
    builder.Services.AddMmcpServer(o =>
    {
        o.Id = "io.mmcp.bench.startup";
        o.Name = "Startup benchmark";
        o.Description = "Tools for the startup-to-first-call benchmark.";
        o.Version = "1.0.0";
    }).WithToolsFromAssembly(typeof(BenchTools).Assembly);
}
else
{
    builder.Services.AddMmcpServer<BenchTools>();
}

return await builder.Build().RunMmcpAsync(args);
