namespace CodeFormer.Cli.Commands;

/// <summary>Expands the command line's files and folders into the list of photos to process.</summary>
internal static class InputCollector
{
    private static readonly HashSet<string> PhotoExtensions = new(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png", ".webp" };

    /// <summary>Containers <c>restore</c> treats as video (decoded and encoded by ffmpeg).</summary>
    private static readonly HashSet<string> VideoExtensions = new(StringComparer.OrdinalIgnoreCase) { ".mp4", ".mov", ".mkv", ".webm", ".avi" };

    public static bool IsVideo(string path) => VideoExtensions.Contains(Path.GetExtension(path));

    /// <param name="includeVideos">Folders also yield videos (restore); colorize and inpaint take photos only.</param>
    public static IReadOnlyList<string> Collect(IEnumerable<string> arguments, bool includeVideos = false)
    {
        var files = new List<string>();
        foreach (var argument in arguments)
        {
            if (Directory.Exists(argument))
            {
                files.AddRange(Directory.EnumerateFiles(argument)
                    .Where(f => PhotoExtensions.Contains(Path.GetExtension(f)) || (includeVideos && IsVideo(f)))
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
            throw new ArgumentException(includeVideos
                ? "No photos (JPEG, PNG, WebP) or videos (MP4, MOV, MKV, WebM, AVI) found in the given inputs."
                : "No photos found (JPEG, PNG or WebP) in the given inputs.");
        }
        return files.Select(Path.GetFullPath).Distinct(StringComparer.Ordinal).ToList();
    }
}
