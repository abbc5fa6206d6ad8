using CodeFormer.Network.Architecture;

namespace CodeFormer.Network.RealEsrgan;

/// <summary>
/// Every parameter of an RRDBNet in state-dict order, named as basicsr's <c>RRDBNet.state_dict()</c> names them:
/// conv_first, body.{i}.rdb{1,2,3}.conv{1..5}, conv_body, conv_up1, conv_up2, conv_hr, conv_last — all 3×3 convolutions
/// with bias. For x2plus: 702 tensors, 16,703,171 parameters.
/// </summary>
public sealed class RrdbNetParameterLayout
{
    public const int RdbsPerBlock = 3;
    public const int ConvsPerRdb = 5;
    public const int KernelSize = 3;

    public RrdbNetParameterLayout(RrdbNetArchitecture architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        architecture.Validate();
        Architecture = architecture;
        int nf = architecture.NumFeat, gc = architecture.NumGrowCh;
        var p = new List<ParameterSpec>();
        AddConv(p, "conv_first", nf, architecture.FirstConvInChannels);
        for (int block = 0; block < architecture.NumBlock; block++)
        {
            for (int rdb = 1; rdb <= RdbsPerBlock; rdb++)
            {
                for (int conv = 1; conv <= ConvsPerRdb; conv++)
                {
                    var (outChannels, inChannels) = RdbConvChannels(architecture, conv);
                    AddConv(p, $"body.{block}.rdb{rdb}.conv{conv}", outChannels, inChannels);
                }
            }
        }
        AddConv(p, "conv_body", nf, nf);
        AddConv(p, "conv_up1", nf, nf);
        AddConv(p, "conv_up2", nf, nf);
        AddConv(p, "conv_hr", nf, nf);
        AddConv(p, "conv_last", architecture.OutChannels, nf);
        Parameters = p;
        TotalElements = p.Sum(s => s.ElementCount);
    }

    public RrdbNetArchitecture Architecture { get; }
    public IReadOnlyList<ParameterSpec> Parameters { get; }
    public long TotalElements { get; }

    /// <summary>
    /// ResidualDenseBlock conv k (1-based) sees the block input and the k−1 growth outputs before it:
    /// in nf + (k−1)·gc; convs 1–4 grow by gc, conv5 maps back to nf.
    /// </summary>
    public static (int Out, int In) RdbConvChannels(RrdbNetArchitecture architecture, int conv)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        if (conv is < 1 or > ConvsPerRdb)
        {
            throw new ArgumentOutOfRangeException(nameof(conv), conv, $"A residual dense block has convs 1..{ConvsPerRdb}.");
        }
        int inChannels = architecture.NumFeat + (conv - 1) * architecture.NumGrowCh;
        return (conv == ConvsPerRdb ? architecture.NumFeat : architecture.NumGrowCh, inChannels);
    }

    private static void AddConv(List<ParameterSpec> p, string name, int outChannels, int inChannels)
    {
        p.Add(new($"{name}.weight", [outChannels, inChannels, KernelSize, KernelSize], ParameterKind.Weight));
        p.Add(new($"{name}.bias", [outChannels], ParameterKind.Bias));
    }
}
