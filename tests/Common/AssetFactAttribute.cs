namespace CodeFormer.Testing;

/// <summary>
/// Real models and photographs live beside the project in ../shared/assets (or where CODEFORMER_ASSETS
/// points). Tests that need one are skipped, naming the missing file, on machines without them.
/// </summary>
public static class TestAssets
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    public static bool Exists(string relative) => File.Exists(PathOf(relative));

    private static string FindRoot()
    {
        var configured = Environment.GetEnvironmentVariable("CODEFORMER_ASSETS");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Path.GetFullPath(configured);
        }
        // Walk up from the test binary to the repository root, whose sibling is shared/.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "..", "shared", "assets");
            if (File.Exists(Path.Combine(dir.FullName, "CodeFormer.Cloud.sln")) && Directory.Exists(candidate))
            {
                return Path.GetFullPath(candidate);
            }
        }
        return Path.GetFullPath(Path.Combine("..", "shared", "assets"));
    }
}

/// <summary>A fact that is skipped, with the missing file named, when a shared asset is absent.</summary>
public sealed class AssetFactAttribute : FactAttribute
{
    public AssetFactAttribute(params string[] relativePaths)
    {
        var missing = relativePaths.Where(p => !TestAssets.Exists(p)).ToList();
        if (missing.Count > 0)
        {
            Skip = $"Test asset(s) not found under {TestAssets.Root}: {string.Join(", ", missing)} (set CODEFORMER_ASSETS).";
        }
    }
}

/// <summary>The theory counterpart of <see cref="AssetFactAttribute"/>.</summary>
public sealed class AssetTheoryAttribute : TheoryAttribute
{
    public AssetTheoryAttribute(params string[] relativePaths)
    {
        var missing = relativePaths.Where(p => !TestAssets.Exists(p)).ToList();
        if (missing.Count > 0)
        {
            Skip = $"Test asset(s) not found under {TestAssets.Root}: {string.Join(", ", missing)} (set CODEFORMER_ASSETS).";
        }
    }
}
