namespace CodeFormer.Infra.Tests.Support;

/// <summary>
/// Reads the block-mapping subset of YAML that azure.yaml uses (nested "key: value" / "key:" lines,
/// comments, no lists or flow style) into dotted paths, e.g. "services.functions.host" → "function".
/// Enough to cross-check azure.yaml against the template without a YAML package; anything outside the
/// subset is reported, not guessed.
/// </summary>
public static class SimpleYaml
{
    public static IReadOnlyDictionary<string, string> ReadScalars(string path)
    {
        var scalars = new Dictionary<string, string>(StringComparer.Ordinal);
        var parents = new List<(int Indent, string Key)>();
        var lineNumber = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNumber++;
            var line = StripComment(raw).TrimEnd();
            if (line.Trim().Length == 0)
            {
                continue;
            }
            var indent = line.Length - line.TrimStart(' ').Length;
            var content = line.Trim();
            var colon = content.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || content.StartsWith('-'))
            {
                throw new FormatException($"{path}:{lineNumber}: '{content}' is outside the YAML subset this reader understands.");
            }
            parents.RemoveAll(p => p.Indent >= indent);
            var key = content[..colon].Trim();
            var value = content[(colon + 1)..].Trim();
            var fullKey = string.Join('.', parents.Select(p => p.Key).Append(key));
            if (value.Length == 0)
            {
                parents.Add((indent, key));
            }
            else
            {
                scalars[fullKey] = value.Trim('"', '\'');
            }
        }
        return scalars;
    }

    // A '#' starts a comment at the beginning of a line or after a space (URLs keep their '#' otherwise).
    private static string StripComment(string line)
    {
        var trimmed = line.TrimStart();
        if (trimmed.StartsWith('#'))
        {
            return string.Empty;
        }
        var index = line.IndexOf(" #", StringComparison.Ordinal);
        return index >= 0 ? line[..index] : line;
    }
}
