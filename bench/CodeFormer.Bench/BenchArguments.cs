using System.Globalization;

namespace CodeFormer.Bench;

/// <summary>The bench's small flag language: --name value pairs and positional paths.</summary>
internal sealed class BenchArguments
{
    private readonly Dictionary<string, string> _named = new(StringComparer.Ordinal);

    public List<string> Positional { get; } = [];

    public static BenchArguments Parse(string[] args)
    {
        var parsed = new BenchArguments();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal))
            {
                if (i + 1 >= args.Length)
                {
                    throw new ArgumentException($"Flag {args[i]} needs a value.");
                }
                parsed._named[args[i][2..]] = args[++i];
            }
            else
            {
                parsed.Positional.Add(args[i]);
            }
        }
        return parsed;
    }

    public string? Text(string name) => _named.GetValueOrDefault(name);

    public string Required(string name) => Text(name) ?? throw new ArgumentException($"--{name} is required.");

    public int Int(string name, int fallback) => Text(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public double Double(string name, double fallback) => Text(name) is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public double[] Doubles(string name, double[] fallback)
        => Text(name) is { } v ? v.Split(',').Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray() : fallback;

    public int[] Ints(string name, int[] fallback)
        => Text(name) is { } v ? v.Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray() : fallback;
}
