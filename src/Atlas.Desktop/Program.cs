using Atlas.Desktop.Cli;

return await AtlasCli.RunAsync(args).ConfigureAwait(false);
