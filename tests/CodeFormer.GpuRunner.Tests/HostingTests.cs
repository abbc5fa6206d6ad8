using CodeFormer.Engine.Runtime;
using CodeFormer.GpuRunner.Health;
using CodeFormer.GpuRunner.Models;
using CodeFormer.GpuRunner.Settings;
using CodeFormer.GpuRunner.Testing;
using CodeFormer.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CodeFormer.GpuRunner.Tests;

/// <summary>Start-up: models from the models container, verified; the health endpoint; refusing to run without CUDA when told to.</summary>
[Collection(WorkerCollection.Name)]
public sealed class HostingTests(StackFixture fixture)
{
    [AssetFact(StackFixture.YuNet)]
    public async Task Healthz_answers_ready_once_models_are_loaded_and_the_loop_runs_and_not_ready_after_stop()
    {
        var lane = await fixture.LaneAsync();
        var modelsDirectory = fixture.ModelsDirectory();
        await using var worker = await InProcessWorker.StartAsync(lane.WorkerSettings(modelsDirectory));
        using var http = new HttpClient { BaseAddress = worker.HealthAddress };

        var ready = await http.GetAsync("healthz");
        Assert.Equal(System.Net.HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("ready", await ready.Content.ReadAsStringAsync());
        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync("healthz/live")).StatusCode);
        Assert.True(File.Exists(Path.Combine(modelsDirectory, LocalStack.TinyModel)));
        Assert.True(File.Exists(Path.Combine(modelsDirectory, LocalStack.Detector)));

        var health = (WorkerHealth)worker.Services.GetService(typeof(WorkerHealth))!;
        health.MarkStopping();
        var stopping = await http.GetAsync("healthz");
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, stopping.StatusCode);
        Assert.Contains("shutting down", await stopping.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [AssetFact(StackFixture.YuNet)]
    public async Task Require_gpu_without_cuda_refuses_to_start_naming_the_reason()
    {
        var lane = await fixture.LaneAsync();
        using var host = InProcessWorker.Build(lane.WorkerSettings(fixture.ModelsDirectory(),
            new Dictionary<string, string?> { ["Engine:device"] = "auto", ["Engine:requireGpu"] = "true" }));

        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        var gpu = Assert.IsType<GpuUnavailableException>(error);
        Assert.Contains("CUDA", gpu.Message, StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(gpu.Reason));
        Assert.Equal(0, lane.Queue.CompletedMessageCount);
    }

    [AssetFact(StackFixture.YuNet)]
    public async Task Model_whose_hash_differs_from_the_manifest_stops_the_worker_naming_the_file()
    {
        var lane = await fixture.LaneAsync();
        var container = fixture.Stack.Blobs.GetBlobContainerClient("models-tampered");
        await container.CreateIfNotExistsAsync();
        await container.GetBlobClient("tiny.onnx").UploadAsync(BinaryData.FromString("not the model"), overwrite: true);
        await container.GetBlobClient("SHA256SUMS").UploadAsync(BinaryData.FromString(new string('a', 64) + "  tiny.onnx\n"), overwrite: true);
        var modelsDirectory = fixture.ModelsDirectory();
        using var host = InProcessWorker.Build(lane.WorkerSettings(modelsDirectory, new Dictionary<string, string?> { ["Jobs:modelsContainer"] = container.Name }));

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => host.StartAsync());

        Assert.Contains("'tiny.onnx'", error.Message, StringComparison.Ordinal);
        Assert.Contains(new string('a', 64), error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(modelsDirectory, "tiny.onnx")));
    }

    [Fact]
    public void Manifest_lines_must_be_a_sha256_and_a_plain_file_name()
    {
        var entries = ModelFetcher.ParseManifest($"{new string('A', 64)}  codeformer.pth\n# comment\n{new string('b', 64)} *yunet.onnx\n", "SHA256SUMS");
        Assert.Equal([("codeformer.pth", new string('a', 64)), ("yunet.onnx", new string('b', 64))], entries);

        Assert.Contains("line 1", Assert.Throws<InvalidDataException>(() => ModelFetcher.ParseManifest("abc  x.onnx", "SHA256SUMS")).Message, StringComparison.Ordinal);
        Assert.Contains("plain file name", Assert.Throws<InvalidDataException>(() => ModelFetcher.ParseManifest($"{new string('a', 64)}  ../etc/passwd", "SHA256SUMS")).Message, StringComparison.Ordinal);
        Assert.Contains("lists no model files", Assert.Throws<InvalidDataException>(() => ModelFetcher.ParseManifest("\n", "SHA256SUMS")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Liveness_turns_unhealthy_when_a_job_is_stuck_past_the_time_limit()
    {
        var clock = new ManualClock(DateTimeOffset.Parse("2026-12-01T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var health = new WorkerHealth(Options.Create(new WorkerSettings { JobTimeout = TimeSpan.FromMinutes(2) }), clock);
        Assert.Equal("models are not loaded yet", health.NotReadyReason());
        health.MarkModelsLoaded();
        Assert.Equal("the receive loop is not running", health.NotReadyReason());
        var running = true;
        health.MarkReceiving(() => running);
        Assert.Null(health.NotReadyReason());

        var ticket = health.JobStarted("job-1");
        clock.Advance(TimeSpan.FromMinutes(2.5));
        Assert.Null(health.LivenessProblem());
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Contains("job job-1", health.LivenessProblem(), StringComparison.Ordinal);
        health.JobEnded(ticket);
        Assert.Null(health.LivenessProblem());

        running = false;
        Assert.Equal("the receive loop is no longer running", health.LivenessProblem());
    }

    [Fact]
    public void Worker_settings_out_of_range_are_each_named()
    {
        var problems = new WorkerSettings { MaxConcurrentJobs = 0, MaxDeliveryCount = 0, JobTimeout = TimeSpan.Zero, WebhookAttempts = 0 }.Problems();
        Assert.Contains(problems, p => p.StartsWith("Worker:MaxConcurrentJobs", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Worker:MaxDeliveryCount", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Worker:JobTimeout", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Worker:WebhookAttempts", StringComparison.Ordinal));
        Assert.Empty(new WorkerSettings().Problems());
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        private DateTimeOffset _now = now;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
