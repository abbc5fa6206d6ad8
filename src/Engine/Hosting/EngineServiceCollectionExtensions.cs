using CodeFormer.Engine.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CodeFormer.Engine.Hosting;

/// <summary>The engine in a .NET host: settings from configuration, validated at start, one engine per process.</summary>
public static class EngineServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="EngineSettings"/> bound from the <c>Engine</c> section (environment: <c>Engine__device</c>,
    /// <c>Engine__precision</c>, <c>Engine__requireGpu</c>, <c>Engine__cuda__deviceId</c>, …) and validated when the host
    /// starts; <see cref="RestorationEngineFactory"/> with the host's logger and an HttpClient from the client factory; and
    /// <see cref="RestorationEngineHost"/>, a hosted service that builds the one engine at start, so a host without CUDA
    /// under <c>requireGpu</c>, or with a missing model, refuses to start with the reason.
    /// </summary>
    public static IServiceCollection AddRestorationEngine(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<EngineSettings>()
            .Bind(configuration.GetSection(EngineSettings.SectionName))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<EngineSettings>, EngineSettingsValidation>();
        services.AddHttpClient<RestorationEngineFactory>(client => client.Timeout = TimeSpan.FromMinutes(30));
        services.AddSingleton<RestorationEngineHost>();
        services.AddHostedService(provider => provider.GetRequiredService<RestorationEngineHost>());
        return services;
    }
}

/// <summary>Every problem of the bound settings, each naming its setting (<see cref="EngineSettings.Problems"/>).</summary>
internal sealed class EngineSettingsValidation : IValidateOptions<EngineSettings>
{
    public ValidateOptionsResult Validate(string? name, EngineSettings options)
    {
        var problems = options.Problems();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
