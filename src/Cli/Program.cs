using CodeFormer.Cli;

return await CliApplication.CreateRootCommand().Parse(args).InvokeAsync();
