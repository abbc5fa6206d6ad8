using CodeFormer.Functions;
using CodeFormer.Shared.Settings;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Services.AddCodeFormerService(builder.Configuration);
builder.Services.AddCodeFormerFunctions();
builder.Build().Run();
