using CodeFormer.Bench;

return BenchCommand.Run(args);
