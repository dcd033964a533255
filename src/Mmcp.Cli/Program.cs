using Mmcp.Cli.Application;

return await CliApplication.RunAsync(args).ConfigureAwait(false);
