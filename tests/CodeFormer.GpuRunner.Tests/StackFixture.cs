using CodeFormer.GpuRunner.Testing;
using CodeFormer.Testing;
using CodeFormer.Testing.ServiceBus;

namespace CodeFormer.GpuRunner.Tests;

/// <summary>
/// One local stack (Azurite, Service Bus test broker, CloudEvents receiver, models container) for every worker test;
/// each test takes a lane of its own. The tests share one collection so they run one after another: they start
/// workers, and the machine they run on has two cores.
/// </summary>
public sealed class StackFixture : IAsyncLifetime
{
    public const string YuNet = "models/face_detection_yunet_2023mar.onnx";
    public const string Hopper = "images/grace_hopper_517x606.jpg";
    public const string Solvay = "images/solvay_1927_1280x926.png";

    private readonly string _folder = Directory.CreateTempSubdirectory("codeformer-worker-tests-").FullName;
    private LocalStack? _stack;
    private int _workers;

    public LocalStack Stack => _stack ?? throw new InvalidOperationException("The stack did not start (missing assets?).");

    /// <summary>Lock durations are short (5 s) so that expiry and redelivery take seconds, yet long enough for the SDK's lock renewal
    /// (at half the remaining time) to keep up on a heavily loaded test machine; MaxDeliveryCount is 3.</summary>
    public Task<Lane> LaneAsync(TimeSpan? lockDuration = null, int maxDeliveryCount = 3) =>
        Stack.CreateLaneAsync(new TestQueueOptions { LockDuration = lockDuration ?? TimeSpan.FromSeconds(5), MaxDeliveryCount = maxDeliveryCount });

    /// <summary>A fresh local models directory per worker, so each one fetches and verifies the models itself.</summary>
    public string ModelsDirectory() => Path.Combine(_folder, $"models-{Interlocked.Increment(ref _workers)}");

    public static byte[] Photo(string asset) => File.ReadAllBytes(TestAssets.PathOf(asset));

    public async Task InitializeAsync()
    {
        if (TestAssets.Exists(YuNet))
        {
            _stack = await LocalStack.StartAsync(TestAssets.PathOf(YuNet));
        }
    }

    public async Task DisposeAsync()
    {
        if (_stack is not null)
        {
            await _stack.DisposeAsync();
        }
        Directory.Delete(_folder, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class WorkerCollection : ICollectionFixture<StackFixture>
{
    public const string Name = "worker stack";
}
