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

    public static WeightSet Load(string path, CodeFormerArchitecture architecture)
    {
        var weights = TorchCheckpointReader.ReadStateDict(path);
        Validate(weights, architecture);
        return weights;
    }

    /// <summary>
    /// The released variant (restoration, inpainting, colorization) or Tiny whose layout these weights fit
    /// exactly, or null: lets a caller pick the architecture from the checkpoint instead of asking the user.
    /// </summary>
    public static CodeFormerArchitecture? IdentifyArchitecture(WeightSet weights) =>
        KnownArchitectures.Select(k => k.Architecture).FirstOrDefault(a => Fits(weights, a));

    /// <summary>
    /// Strict validation; when the shapes reveal another known CodeFormer variant, the first problem
    /// listed says so, since "wrong model chosen" is far likelier than a corrupt file.
    /// </summary>
    public static void Validate(WeightSet weights, CodeFormerArchitecture architecture)
    {
        try
        {
            weights.ValidateAgainst(new ParameterLayout(new NetworkLayout(architecture)));
        }
        catch (InvalidWeightsException e)
        {
            string? hint = DescribeLikelyArchitecture(weights, architecture);
            if (hint is null)
            {
                throw;
            }
            throw new InvalidWeightsException([hint, .. e.Problems]);
        }
    }

    private static string? DescribeLikelyArchitecture(WeightSet weights, CodeFormerArchitecture expected)
    {
        foreach (var (name, candidate) in KnownArchitectures)
        {
            if (candidate != expected && Fits(weights, candidate))
            {
                return $"these weights are the {name} variant (codebook {candidate.CodebookSize}, fuse at {string.Join("/", candidate.FuseResolutions)}); choose that architecture";
            }
        }
        int? codebook = weights.Contains("quantize.embedding.weight") ? weights["quantize.embedding.weight"].Shape[0] : null;
        var fuse = FuseResolutionsOf(weights);
        if ((codebook is { } c && c != expected.CodebookSize) || !fuse.SequenceEqual(expected.FuseResolutions.Order()))
        {
            return $"the checkpoint has codebook {codebook?.ToString() ?? "?"} and fuse blocks at {Describe(fuse)}, " +
                $"the architecture expects codebook {expected.CodebookSize} and fuse at {Describe(expected.FuseResolutions.Order())}";
        }
        return null;
    }

    private static bool Fits(WeightSet weights, CodeFormerArchitecture candidate)
    {
        try
        {
            weights.ValidateAgainst(new ParameterLayout(new NetworkLayout(candidate)));
            return true;
        }
        catch (InvalidWeightsException)
        {
            return false;
        }
    }

    private static List<int> FuseResolutionsOf(WeightSet weights) => weights.Names
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
