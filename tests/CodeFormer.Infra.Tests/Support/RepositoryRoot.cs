namespace CodeFormer.Infra.Tests.Support;

/// <summary>The repository root: the nearest directory above the test binary holding CodeFormer.Cloud.sln.</summary>
public static class RepositoryRoot
{
    private const string SolutionFile = "CodeFormer.Cloud.sln";

    public static string Path { get; } = Find();

    public static string Combine(params string[] relative) =>
        System.IO.Path.Combine([Path, .. relative]);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, SolutionFile)))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException(
            $"No {SolutionFile} found in any directory above {AppContext.BaseDirectory}; the tests must run from a build inside the repository.");
    }
}
