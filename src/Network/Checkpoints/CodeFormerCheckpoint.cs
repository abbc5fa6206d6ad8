using CodeFormer.Network.Architecture;
using CodeFormer.Network.Weights;

namespace CodeFormer.Network.Checkpoints;

/// <summary>
/// Loads a CodeFormer <c>.pth</c> (its 'params_ema', else 'params') and checks it strictly against an
/// architecture, as the reference's <c>load_state_dict(strict=True)</c> does: a checkpoint that would
/// load only partly is refused, never silently half-used.
/// </summary>
public static class CodeFormerCheckpoint
{
    private static readonly (string Name, CodeFormerArchitecture Architecture)[] KnownArchitectures =
    [
        ("restoration (codeformer.pth)", CodeFormerArchitecture.Full),
        ("inpainting (codeformer_inpainting.pth)", CodeFormerArchitecture.Inpainting),
        ("colorization (codeformer_colorization.pth)", CodeFormerArchitecture.Colorization),
        ("Tiny (tests)", CodeFormerArchitecture.Tiny),
    ];

    /// <summary>
    /// Names and shapes are checked against the architecture before any tensor is read, so unknown or mis-shaped
    /// tensors are never inflated (a 2 MB zip whose unknown keys inflate to gigabytes is refused at once).
    /// </summary>
    public static WeightSet Load(string path, CodeFormerArchitecture architecture) =>
        TorchCheckpointReader.ReadStateDict(path, null, shapes => ValidateShapes(shapes, architecture));

    /// <summary>
    /// The released variant (restoration, inpainting, colorization) or Tiny whose layout these weights fit
    /// exactly, or null: lets a caller pick the architecture from the checkpoint instead of asking the user.
    /// </summary>
    public static CodeFormerArchitecture? IdentifyArchitecture(WeightSet weights) =>
        KnownArchitectures.Select(k => k.Architecture).FirstOrDefault(a => Fits(ShapesOf(weights), a));

    /// <summary>
    /// Strict validation; when the shapes reveal another known CodeFormer variant, the first problem
    /// listed says so, since "wrong model chosen" is far likelier than a corrupt file.
    /// </summary>
    public static void Validate(WeightSet weights, CodeFormerArchitecture architecture) => ValidateShapes(ShapesOf(weights), architecture);

    private static void ValidateShapes(IReadOnlyList<(string Name, int[] Shape)> shapes, CodeFormerArchitecture architecture)
    {
        var problems = WeightSet.FindProblems(shapes, new ParameterLayout(new NetworkLayout(architecture)).Parameters);
        if (problems.Count == 0)
        {
            return;
        }
        string? hint = DescribeLikelyArchitecture(shapes, architecture);
        throw new InvalidWeightsException(hint is null ? problems : [hint, .. problems]);
    }

    private static List<(string Name, int[] Shape)> ShapesOf(WeightSet weights) => weights.Names.Select(n => (n, weights[n].Shape)).ToList();

    private static string? DescribeLikelyArchitecture(IReadOnlyList<(string Name, int[] Shape)> shapes, CodeFormerArchitecture expected)
    {
        foreach (var (name, candidate) in KnownArchitectures)
        {
            if (candidate != expected && Fits(shapes, candidate))
            {
                return $"these weights are the {name} variant (codebook {candidate.CodebookSize}, fuse at {string.Join("/", candidate.FuseResolutions)}); choose that architecture";
            }
        }
        var embedding = shapes.FirstOrDefault(s => s.Name == "quantize.embedding.weight");
        int? codebook = embedding.Shape is { Length: > 0 } shape ? shape[0] : null;
        var fuse = FuseResolutionsOf(shapes);
        if ((codebook is { } c && c != expected.CodebookSize) || !fuse.SequenceEqual(expected.FuseResolutions.Order()))
        {
            return $"the checkpoint has codebook {codebook?.ToString() ?? "?"} and fuse blocks at {Describe(fuse)}, " +
                $"the architecture expects codebook {expected.CodebookSize} and fuse at {Describe(expected.FuseResolutions.Order())}";
        }
        return null;
    }

    private static bool Fits(IReadOnlyList<(string Name, int[] Shape)> shapes, CodeFormerArchitecture candidate) =>
        WeightSet.FindProblems(shapes, new ParameterLayout(new NetworkLayout(candidate)).Parameters).Count == 0;

    private static List<int> FuseResolutionsOf(IReadOnlyList<(string Name, int[] Shape)> shapes) => shapes
        .Select(s => s.Name)
        .Where(ParameterLayout.IsFuseParameter)
        .Select(n => n.Split('.')[1])
        .Distinct()
        .Select(r => int.TryParse(r, out int value) ? value : -1)
        .Order()
        .ToList();

    private static string Describe(IEnumerable<int> resolutions)
    {
        var list = resolutions.ToList();
        return list.Count == 0 ? "none" : string.Join("/", list);
    }
}
