using CodeFormer.Engine.Models;
using CodeFormer.Testing;

namespace CodeFormer.Engine.Tests.Models;

/// <summary>
/// The task checkpoints have no published SHA-256: the first download is trusted, its hash pinned beside it and
/// said aloud; afterwards a changed file, or a re-download with other bytes, is refused.
/// </summary>
public sealed class TrustOnFirstUseTests
{
    [Fact]
    public async Task First_download_pins_its_hash_visibly_and_a_later_change_is_refused()
    {
        byte[] content = Enumerable.Range(0, 50_000).Select(i => (byte)(i * 7 + 3)).ToArray();
        using var server = new LocalModelServer(content);
        using var http = new HttpClient();
        using var folder = new TemporaryDirectory();
        var notices = new List<string>();
        var cache = new ModelCache(folder.Path, new ModelDownloader(http, notices.Add));
        var model = ModelRegistry.CodeFormerColorization with { Url = server.ModelUri };
        Assert.Null(model.Sha256);

        string path = await cache.ResolveAsync(model, null);

        string hash = ModelCacheTests.Sha256(content);
        Assert.Equal(hash, File.ReadAllText(path + ".sha256-pinned").Trim());
        Assert.Contains(notices, n => n.Contains("trust on first use", StringComparison.Ordinal) && n.Contains(hash, StringComparison.Ordinal));
        Assert.Equal(path, new ModelCache(folder.Path).Resolve(model, null));

        // Same length, one byte different, newer write time: the pin catches it.
        byte[] swapped = (byte[])content.Clone();
        swapped[123] ^= 0xFF;
        await File.WriteAllBytesAsync(path, swapped);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1));
        var error = Assert.Throws<ModelIntegrityException>(() => new ModelCache(folder.Path).Resolve(model, null));
        Assert.Contains("pinned", error.Message);
        Assert.Contains(hash, error.Message);
    }

    [Fact]
    public async Task A_re_download_with_other_bytes_than_the_pin_is_refused()
    {
        byte[] first = Enumerable.Range(0, 20_000).Select(i => (byte)i).ToArray();
        byte[] other = Enumerable.Range(0, 20_000).Select(i => (byte)(i + 1)).ToArray();
        using var folder = new TemporaryDirectory();
        using var http = new HttpClient();
        string path;
        using (var server = new LocalModelServer(first))
        {
            path = await new ModelCache(folder.Path, new ModelDownloader(http)).ResolveAsync(ModelRegistry.CodeFormerInpainting with { Url = server.ModelUri, SizeBytes = null }, null);
        }
        File.Delete(path);

        using var changed = new LocalModelServer(other);
        var model = ModelRegistry.CodeFormerInpainting with { Url = changed.ModelUri, SizeBytes = null };
        await Assert.ThrowsAsync<ModelIntegrityException>(() => new ModelCache(folder.Path, new ModelDownloader(http)).ResolveAsync(model, null));
        Assert.False(File.Exists(path), "A download that differs from the pinned hash was put in place.");
    }
}
