namespace CodeFormer.Cli.Commands;

/// <summary>Expands the command line's files and folders into the list of photos to process.</summary>
internal static class InputCollector
{
    private static readonly HashSet<string> PhotoExtensions = new(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png", ".webp" };

    public static IReadOnlyList<string> Collect(IEnumerable<string> arguments)
    {
        var files = new List<string>();
        foreach (var argument in arguments)
        {
            if (Directory.Exists(argument))
            {
                files.AddRange(Directory.EnumerateFiles(argument)
                    .Where(f => PhotoExtensions.Contains(Path.GetExtension(f)))
                    .Order(StringComparer.Ordinal));
            }
            else if (File.Exists(argument))
            {
                // An explicitly named file is always attempted: if it is not a photo, decoding says why.
                files.Add(argument);
            }
            else
            {
                throw new FileNotFoundException($"Input '{argument}' is neither a file nor a folder.");
            }
        }
        if (files.Count == 0)
        {
            throw new ArgumentException("No photos found (JPEG, PNG or WebP) in the given inputs.");
        }
        return files.Select(Path.GetFullPath).Distinct(StringComparer.Ordinal).ToList();
    }
}
