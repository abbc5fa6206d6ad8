namespace CodeFormer.Cli.Output;

/// <summary>
/// The base name each photo's outputs are written under. The reference names outputs by the input's stem, so
/// <c>face.png</c> and <c>face.jpg</c>, or <c>a/face.png</c> and <c>b/face.png</c>, silently overwrite each other's
/// restored faces, comparison and report. A stem used by one photo only is kept as is; colliding stems get the
/// extension (<c>face_jpg</c>) and, if that still collides, a counter (<c>face_png_2</c>).
/// </summary>
internal static class OutputNames
{
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
            string unique = name;
            for (int n = 2; !taken.Add(unique); n++)
            {
                unique = $"{name}_{n}";
            }
            names.Add(unique);
        }
        return names;
    }
}
