using CodeFormer.Engine.Hosting;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Engine.Runtime;
using CodeFormer.Engine.Tests.Pipeline;
using CodeFormer.Engine.Tests.Runtime;
using CodeFormer.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using static CodeFormer.Engine.Tests.Pipeline.PipelineFixture;

namespace CodeFormer.Engine.Tests.Hosting;

/// <summary>
/// The engine as a hosted component: settings bound from the <c>Engine</c> section, validated at start, and the one
/// engine built by a hosted service. This test project ships the CPU-only natives, so CUDA is never available here.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class EngineHostingTests(PipelineFixture fixture)
{
    private static ServiceProvider Services(Dictionary<string, string?> configuration, RecordingLogger<RestorationEngineHost>? hostLog = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton(typeof(ILogger<>), typeof(Microsoft.Extensions.Logging.Abstractions.NullLogger<>));
        if (hostLog is not null)
        {
            services.AddSingleton<ILogger<RestorationEngineHost>>(hostLog);
        }
        services.AddRestorationEngine(new ConfigurationBuilder().AddInMemoryCollection(configuration).Build());
        return services.BuildServiceProvider();
    }

    [Fact]
    public async Task Without_cuda_and_with_requireGpu_the_engine_host_refuses_to_start_naming_the_reason()
    {
        var hostLog = new RecordingLogger<RestorationEngineHost>();
        using var services = Services(new() { ["Engine:requireGpu"] = "true", ["Engine:needsDetector"] = "false" }, hostLog);
        var host = Assert.Single(services.GetServices<IHostedService>());

        var error = await Assert.ThrowsAsync<GpuUnavailableException>(() => host.StartAsync(CancellationToken.None));

        // The CPU-only native package has no CUDA provider: that is the reason, and the host's log says it.
        Assert.Contains(SessionOptionsFactoryTests.NoCuda, error.Reason);
        Assert.Contains(error.Reason, error.Message);
        var critical = Assert.Single(hostLog.Entries, e => e.Level == LogLevel.Critical);
        Assert.Contains(SessionOptionsFactoryTests.NoCuda, critical.Message);
        Assert.Throws<InvalidOperationException>(() => services.GetRequiredService<RestorationEngineHost>().Engine);
    }

    [Fact]
    public void RequireGpu_without_cuda_is_refused_by_the_session_factory_with_the_reason_instead_of_falling_back()
    {
        var error = Assert.Throws<GpuUnavailableException>(() =>
            SessionOptionsFactory.Create(new EngineSettings { Device = ExecutionDevice.Auto, RequireGpu = true }, out _));
        Assert.Contains(SessionOptionsFactoryTests.NoCuda, error.Reason);

        // Without requireGpu the same request falls back to the CPU and says why.
        using var options = SessionOptionsFactory.Create(new EngineSettings { Device = ExecutionDevice.Auto }, out var choice);
        Assert.False(choice.IsGpu);
        Assert.Contains(SessionOptionsFactoryTests.NoCuda, choice.FallbackReason);
    }

    [Fact]
    public void Settings_bind_from_the_Engine_section_as_environment_variables_name_them()
    {
        using var services = Services(new()
        {
            ["Engine:device"] = "cuda",
            ["Engine:precision"] = "fp16",
            ["Engine:requireGpu"] = "true",
            ["Engine:batchSize"] = "16",
            ["Engine:ioBinding"] = "false",
            ["Engine:cuda:deviceId"] = "1",
            ["Engine:cuda:cudnnConvAlgoSearch"] = "heuristic",
            ["Engine:cuda:copyInDefaultStream"] = "false",
            ["Engine:cuda:gpuMemoryLimitBytes"] = "8589934592",
            ["Engine:cuda:pinnedHostMemory"] = "false",
            ["Engine:modelsDirectory"] = "/models",
        });

        var settings = services.GetRequiredService<IOptions<EngineSettings>>().Value;

        Assert.Equal(ExecutionDevice.Cuda, settings.Device);
        Assert.Equal(ModelPrecision.Fp16, settings.Precision);
        Assert.True(settings.RequireGpu);
        Assert.Equal(16, settings.BatchSize);
        Assert.False(settings.IoBinding);
        Assert.Equal(1, settings.Cuda.DeviceId);
        Assert.Equal(CudnnConvAlgorithmSearch.Heuristic, settings.Cuda.CudnnConvAlgoSearch);
        Assert.False(settings.Cuda.CopyInDefaultStream);
        Assert.Equal(8L << 30, settings.Cuda.GpuMemoryLimitBytes);
        Assert.False(settings.Cuda.PinnedHostMemory);
        Assert.Equal("/models", settings.ModelsDirectory);
        var provider = SessionOptionsFactory.CudaProviderOptions(settings.Cuda);
        Assert.Equal("1", provider["device_id"]);
        Assert.Equal("HEURISTIC", provider["cudnn_conv_algo_search"]);
        Assert.Equal("0", provider["do_copy_in_default_stream"]);
        Assert.Equal("8589934592", provider["gpu_mem_limit"]);
    }

    [Fact]
    public void Settings_out_of_range_fail_validation_at_start_naming_each_setting()
    {
        using var services = Services(new() { ["Engine:batchSize"] = "0", ["Engine:cuda:deviceId"] = "-1" });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(error.Failures, f => f.Contains("BatchSize", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("Cuda.DeviceId", StringComparison.Ordinal));
    }

    [AssetFact(YuNet, Astronaut)]
    public async Task On_the_cpu_the_host_builds_one_engine_that_restores_photos_and_disposes_it_on_stop()
    {
        using var services = Services(new()
        {
            ["Engine:device"] = "cpu",
            ["Engine:offline"] = "true",
            ["Engine:modelPath"] = fixture.IdentityModelPath,
            ["Engine:detectorModelPath"] = TestAssets.PathOf(YuNet),
        });
        var host = services.GetRequiredService<RestorationEngineHost>();

        await Assert.Single(services.GetServices<IHostedService>()).StartAsync(CancellationToken.None);
        var engine = await host.Ready;
        Assert.Same(engine, host.Engine);
        // The CPU network's activations are in the process heap: the engine hands them back after each photo's faces.
        Assert.True(engine.NetworkUsesHostHeap);
        var result = await engine.RestoreAsync(fixture.Photo(Astronaut), new RestorationOptions { Upscale = 1 });
        Assert.Single(result.Faces);

        await host.StopAsync(CancellationToken.None);
        Assert.Throws<InvalidOperationException>(() => host.Engine);
    }
}
