using System.Security.Cryptography;
using CodeFormer.Engine.Models;
using CodeFormer.Testing;

namespace CodeFormer.Engine.Tests.Models;

public sealed class ModelCacheTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "codeformer-models-test-" + Guid.NewGuid().ToString("N"));
    private readonly byte[] _content = RandomBytes(300_000, seed: 7);
    private readonly HttpClient _http = new();

    public void Dispose()
    {
        _http.Dispose();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Fresh_download_is_verified_and_renamed_into_place()
    {
        using var server = new LocalModelServer(_content);
        var model = TestModel(server.ModelUri, _content);
        var cache = new ModelCache(_directory, new ModelDownloader(_http));
        var reports = new List<(long Received, long? Total)>();

        var path = await cache.ResolveAsync(model, explicitPath: null, new SynchronousProgress(reports));

        Assert.Equal(Path.Combine(_directory, "test-model.bin"), path);
        Assert.Equal(_content, await File.ReadAllBytesAsync(path));
        Assert.False(File.Exists(path + ModelDownloader.PartialSuffix));
        Assert.True(File.Exists(path + ".sha256-ok"));
        Assert.Equal(new[] { "" }, server.Requests);
        Assert.Equal((_content.Length, (long?)_content.Length), reports[^1]);
    }

    [Fact]
    public async Task Partial_download_is_resumed_with_a_range_request()
    {
        using var server = new LocalModelServer(_content);
        var model = TestModel(server.ModelUri, _content);
        var cache = new ModelCache(_directory, new ModelDownloader(_http));
        Directory.CreateDirectory(_directory);
        await File.WriteAllBytesAsync(cache.PathFor(model) + ModelDownloader.PartialSuffix, _content[..123_456]);
        var reports = new List<(long Received, long? Total)>();

        var path = await cache.ResolveAsync(model, null, new SynchronousProgress(reports));

        Assert.Equal(new[] { "bytes=123456-" }, server.Requests);
        Assert.Equal(_content, await File.ReadAllBytesAsync(path));
        Assert.Equal(123_456, reports[0].Received);
        Assert.False(File.Exists(path + ModelDownloader.PartialSuffix));
    }

    [Fact]
    public async Task Server_ignoring_the_range_restarts_from_zero()
    {
        using var server = new LocalModelServer(_content) { IgnoreRange = true };
        var model = TestModel(server.ModelUri, _content);
        var cache = new ModelCache(_directory, new ModelDownloader(_http));
        Directory.CreateDirectory(_directory);
        await File.WriteAllBytesAsync(cache.PathFor(model) + ModelDownloader.PartialSuffix, _content[..5000]);

        var path = await cache.ResolveAsync(model, null);

        Assert.Equal(new[] { "bytes=5000-" }, server.Requests);
        Assert.Equal(_content, await File.ReadAllBytesAsync(path));
    }

    [Fact]
    public async Task Corrupt_download_names_both_hashes_and_leaves_no_file()
    {
        using var server = new LocalModelServer(_content) { CorruptAt = 200_000 };
        var model = TestModel(server.ModelUri, _content);
        var cache = new ModelCache(_directory, new ModelDownloader(_http));
        var corrupted = (byte[])_content.Clone();
        corrupted[200_000] ^= 0xFF;

        var error = await Assert.ThrowsAsync<ModelIntegrityException>(() => cache.ResolveAsync(model, null));

        Assert.Contains(model.Sha256!, error.Message);
        Assert.Contains(Sha256(corrupted), error.Message);
        Assert.Equal(Sha256(corrupted), error.ActualSha256);
        Assert.False(File.Exists(cache.PathFor(model)));
        Assert.False(File.Exists(cache.PathFor(model) + ModelDownloader.PartialSuffix));
    }

    [Fact]
    public async Task Explicit_path_overrides_cache_and_download()
    {
        using var server = new LocalModelServer(_content);
        var model = TestModel(server.ModelUri, _content);
        var cache = new ModelCache(_directory, new ModelDownloader(_http));
        Directory.CreateDirectory(_directory);
        var mine = Path.Combine(_directory, "my-own-export.bin");
        await File.WriteAllBytesAsync(mine, [1, 2, 3]); // not the registered bytes: explicit files are the user's call

        Assert.Equal(mine, await cache.ResolveAsync(model, mine));
        Assert.Equal(mine, cache.Resolve(model, mine));
        Assert.Empty(server.Requests);

        var missing = Path.Combine(_directory, "nowhere.onnx");
        var error = Assert.Throws<FileNotFoundException>(() => cache.Resolve(model, missing));
        Assert.Contains(missing, error.Message);
        Assert.Contains("test-model", error.Message);
    }

    [Fact]
    public async Task Offline_error_says_what_to_fetch_from_where_to_where_with_which_hash()
    {
        var model = TestModel(new Uri("https://example.invalid/models/model.bin"), _content);
        var offline = new ModelCache(_directory, downloader: null);

        var sync = Assert.Throws<ModelUnavailableException>(() => offline.Resolve(model, null));
        var async = await Assert.ThrowsAsync<ModelUnavailableException>(() => offline.ResolveAsync(model, null));

        foreach (var error in new[] { sync, async })
        {
            Assert.Contains("https://example.invalid/models/model.bin", error.Message);
            Assert.Contains(Path.Combine(_directory, "test-model.bin"), error.Message);
            Assert.Contains(model.Sha256!, error.Message);
            Assert.Contains($"{_content.Length} bytes", error.Message);
        }
        Assert.False(offline.CanDownload);
    }

    [Fact]
    public void Offline_error_for_an_export_only_model_explains_the_export()
    {
        var offline = new ModelCache(_directory);

        var error = Assert.Throws<ModelUnavailableException>(() => offline.Resolve(ModelRegistry.RetinaFaceMobile, null));

        Assert.Contains("no official ONNX download", error.Message);
        Assert.Contains("detection_mobilenet0.25_Final.pth", error.Message);
        Assert.Contains(Path.Combine(_directory, "retinaface_mobilenet0.25_640.onnx"), error.Message);
        Assert.Contains(ModelRegistry.RetinaFaceMobile.Sha256!, error.Message);
    }

    [Fact]
    public async Task Cached_file_is_not_downloaded_again()
    {
        using var server = new LocalModelServer(_content);
        var model = TestModel(server.ModelUri, _content);
        var cache = new ModelCache(_directory, new ModelDownloader(_http));

        var first = await cache.ResolveAsync(model, null);
        var second = await cache.ResolveAsync(model, null);
        var offline = new ModelCache(_directory).Resolve(model, null);

        Assert.Equal(first, second);
        Assert.Equal(first, offline);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Verified_marker_is_trusted_until_the_file_changes()
    {
        Directory.CreateDirectory(_directory);
        var model = TestModel(new Uri("https://example.invalid/model.bin"), _content);
        var cache = new ModelCache(_directory);
        var path = cache.PathFor(model);
        await File.WriteAllBytesAsync(path, _content);
        Assert.Equal(path, cache.Resolve(model, null)); // hashes and writes the marker
        Assert.True(File.Exists(path + ".sha256-ok"));

        // Same size, same write time, different bytes: the marker is trusted (this is what spares hashing 376 MB).
        var stamp = File.GetLastWriteTimeUtc(path);
        var tampered = (byte[])_content.Clone();
        tampered[10] ^= 1;
        await File.WriteAllBytesAsync(path, tampered);
        File.SetLastWriteTimeUtc(path, stamp);
        Assert.Equal(path, cache.Resolve(model, null));

        // A new write time invalidates the marker and the mismatch is found.
        File.SetLastWriteTimeUtc(path, stamp.AddMinutes(1));
        var error = Assert.Throws<ModelIntegrityException>(() => cache.Resolve(model, null));
        Assert.Contains(Sha256(tampered), error.Message);
        Assert.Contains(model.Sha256!, error.Message);
    }

    [Fact]
    public async Task Corrupt_cached_file_is_replaced_when_downloads_are_allowed()
    {
        using var server = new LocalModelServer(_content);
        var model = TestModel(server.ModelUri, _content);
        var cache = new ModelCache(_directory, new ModelDownloader(_http));
        Directory.CreateDirectory(_directory);
        await File.WriteAllBytesAsync(cache.PathFor(model), RandomBytes(_content.Length, seed: 99));

        var path = await cache.ResolveAsync(model, null);

        Assert.Equal(_content, await File.ReadAllBytesAsync(path));
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task CodeFormer_licence_notice_is_emitted_before_the_download_and_yunet_has_none()
    {
        var events = new List<string>();
        void Log(string entry)
        {
            lock (events)
            {
                events.Add(entry);
            }
        }
        using var server = new LocalModelServer(_content, Log);
        var downloader = new ModelDownloader(_http, notice => Log("notice " + notice));
        var codeformer = ModelRegistry.CodeFormer with { Url = server.ModelUri, Sha256 = Sha256(_content), SizeBytes = _content.Length };
        var yunet = ModelRegistry.YuNet with { Url = server.ModelUri, Sha256 = Sha256(_content), SizeBytes = _content.Length };

        await downloader.DownloadAsync(codeformer, Path.Combine(_directory, "a.bin"));
        Assert.Equal(2, events.Count);
        Assert.StartsWith("notice ", events[0]);
        Assert.Contains("S-Lab License 1.0", events[0]);
        Assert.Contains("NON-COMMERCIAL", events[0]);
        Assert.StartsWith("request", events[1]);

        await downloader.DownloadAsync(yunet, Path.Combine(_directory, "b.bin"));
        Assert.Equal(3, events.Count);
        Assert.StartsWith("request", events[2]);
    }

    [Fact]
    public async Task Http_error_is_unavailable_with_instructions()
    {
        using var server = new LocalModelServer(_content);
        var model = TestModel(new Uri(server.BaseUri, "missing.bin"), _content);
        var cache = new ModelCache(_directory, new ModelDownloader(_http));

        var error = await Assert.ThrowsAsync<ModelUnavailableException>(() => cache.ResolveAsync(model, null));

        Assert.Contains("404", error.Message);
        Assert.Contains(cache.PathFor(model), error.Message);
        Assert.False(File.Exists(cache.PathFor(model)));
    }

    [Fact]
    public async Task Cancelled_download_keeps_the_partial_for_resuming()
    {
        using var server = new LocalModelServer(_content);
        var model = TestModel(server.ModelUri, _content);
        var cache = new ModelCache(_directory, new ModelDownloader(_http));
        using var cancellation = new CancellationTokenSource();
        var progress = new SynchronousProgress(report =>
        {
            if (report.Received > 0)
            {
                cancellation.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cache.ResolveAsync(model, null, progress, cancellation.Token));

        Assert.False(File.Exists(cache.PathFor(model)));
        var partial = new FileInfo(cache.PathFor(model) + ModelDownloader.PartialSuffix);
        Assert.True(partial.Exists);
        Assert.InRange(partial.Length, 1, _content.Length);

        var path = await cache.ResolveAsync(model, null);
        Assert.Equal(_content, await File.ReadAllBytesAsync(path));
    }

    [Fact]
    public async Task Complete_partial_of_unknown_size_is_finished_by_a_416_answer()
    {
        using var server = new LocalModelServer(_content);
        var model = TestModel(server.ModelUri, _content) with { SizeBytes = null };
        var cache = new ModelCache(_directory, new ModelDownloader(_http));
        Directory.CreateDirectory(_directory);
        await File.WriteAllBytesAsync(cache.PathFor(model) + ModelDownloader.PartialSuffix, _content);

        var path = await cache.ResolveAsync(model, null);

        Assert.Equal(new[] { $"bytes={_content.Length}-" }, server.Requests);
        Assert.Equal(_content, await File.ReadAllBytesAsync(path));
    }

    [Fact]
    public async Task Stalled_server_is_abandoned_after_the_idle_timeout_and_the_partial_kept()
    {
        using var server = new LocalModelServer(_content) { StallAfterBytes = 100_000 };
        var model = TestModel(server.ModelUri, _content);
        var downloader = new ModelDownloader(_http) { IdleTimeout = TimeSpan.FromMilliseconds(500) };
        var cache = new ModelCache(_directory, downloader);

        var error = await Assert.ThrowsAsync<ModelUnavailableException>(() => cache.ResolveAsync(model, null));

        Assert.Contains("no data for 0.5 s", error.Message);
        Assert.Contains("Run again to resume", error.Message);
        Assert.False(File.Exists(cache.PathFor(model)));
        var partial = new FileInfo(cache.PathFor(model) + ModelDownloader.PartialSuffix);
        Assert.InRange(partial.Length, 1, 100_000);
    }

    [Fact]
    public void Cache_directory_comes_from_the_option_or_the_environment()
    {
        Assert.Equal(Path.GetFullPath(_directory), new ModelCache(_directory).Directory);
        var previous = Environment.GetEnvironmentVariable(ModelCache.DirectoryVariable);
        try
        {
            Environment.SetEnvironmentVariable(ModelCache.DirectoryVariable, _directory);
            Assert.Equal(Path.GetFullPath(_directory), new ModelCache().Directory);
            Environment.SetEnvironmentVariable(ModelCache.DirectoryVariable, null);
            Assert.EndsWith(Path.Combine(".cache", "codeformer-cloud"), new ModelCache().Directory);
        }
        finally
        {
            Environment.SetEnvironmentVariable(ModelCache.DirectoryVariable, previous);
        }
    }

    private static KnownModel TestModel(Uri url, byte[] content) => new(
        Name: "test-model",
        Url: url,
        Sha256: Sha256(content),
        SizeBytes: content.Length,
        Licence: "test",
        Contract: "random bytes",
        FileName: "test-model.bin");

    internal static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; tests need reports in order and at once.</summary>
    private sealed class SynchronousProgress(Action<(long Received, long? Total)> onReport) : IProgress<(long Received, long? Total)>
    {
        public SynchronousProgress(List<(long Received, long? Total)> into)
            : this(into.Add)
        {
        }

        public void Report((long Received, long? Total) value) => onReport(value);
    }
}
