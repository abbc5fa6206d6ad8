using CodeFormer.GpuRunner;
using Microsoft.Extensions.Hosting;

// The GPU worker: settings from the environment (docs/deployment.md, "Configuration the apps receive"),
// everything else in GpuRunnerHostExtensions.
var builder = Host.CreateApplicationBuilder(args);
builder.AddGpuRunner();
using var host = builder.Build();
await host.RunAsync();
