namespace CodeFormer.Cli.Output;

/// <summary>
/// The base name each photo's outputs are written under. The reference names outputs by the input's stem, so
/// <c>face.png</c> and <c>face.jpg</c>, or <c>a/face.png</c> and <c>b/face.png</c>, silently overwrite each other's
/// restored faces, comparison and report. A stem used by one photo only is kept as is; colliding stems get the
/// extension (<c>face_jpg</c>) and, if that still collides, a counter (<c>face_png_2</c>).
/// Names are also shortened to fit: a legal 254-byte input name plus "_00.png" or ".tmp" would pass the 255-byte
/// limit of a file name on Linux, so a base name keeps at most <see cref="MaxBaseNameBytes"/> UTF-8 bytes.
/// </summary>
internal static class OutputNames
{
    /// <summary>255 bytes, less room for the longest suffix the writer adds ("_00.png.tmp", ".webp.tmp", ".json.tmp") and spare.</summary>
    public const int MaxBaseNameBytes = 255 - 24;

    public static IReadOnlyList<string> For(IReadOnlyList<string> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var stems = files.Select(Path.GetFileNameWithoutExtension).ToList();
        var stemCounts = stems.GroupBy(s => s!, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.Count(), StringComparer.OrdinalIgnoreCase);
        var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var names = new List<string>(files.Count);
        for (int i = 0; i < files.Count; i++)
        {
            string stem = stems[i]!;
            string name = stemCounts[stem] == 1 ? stem : $"{stem}_{Path.GetExtension(files[i]).TrimStart('.').ToLowerInvariant()}";
            string unique = Fit(name, "");
            for (int n = 2; !taken.Add(unique); n++)
            {
                unique = Fit(name, $"_{n}");
            }
            names.Add(unique);
        }
        return names;
    }

    /// <summary>The name with the suffix, cut (at a character boundary) so the whole fits in MaxBaseNameBytes UTF-8 bytes.</summary>
    private static string Fit(string name, string suffix)
    {
        var budget = MaxBaseNameBytes - System.Text.Encoding.UTF8.GetByteCount(suffix);
        if (System.Text.Encoding.UTF8.GetByteCount(name) <= budget)
        {
            return name + suffix;
        }
        var length = name.Length;
        while (length > 0 && System.Text.Encoding.UTF8.GetByteCount(name.AsSpan(0, length)) > budget)
        {
            length--;
        }
        if (length > 0 && char.IsHighSurrogate(name[length - 1]))
        {
            length--;
        }
        return name[..length] + suffix;
    }
}
