using CodeFormer.Functions.Api;
using CodeFormer.Functions.Intake;
using CodeFormer.Functions.Sweep;
using CodeFormer.Shared.Settings;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Services.AddCodeFormerService(builder.Configuration);
builder.Services.AddSingleton<UploadIntakeHandler>();
builder.Services.AddSingleton<JobsApi>();
builder.Services.AddSingleton<AdminApi>();
builder.Services.AddSingleton<OverdueUploadSweeper>();
builder.Build().Run();
