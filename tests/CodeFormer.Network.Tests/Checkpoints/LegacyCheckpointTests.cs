using CodeFormer.Network.Checkpoints;
using CodeFormer.Testing;

namespace CodeFormer.Network.Tests.Checkpoints;

/// <summary>
/// A real legacy-format file (RetinaFace mobilenet0.25, saved by torch &lt; 1.6 on a GPU machine).
/// The facts below were read independently with Python's own pickle module: 300 state-dict entries,
/// 253 float tensors (433,296 values) and 47 int64 num_batches_tracked counters.
/// </summary>
public sealed class LegacyCheckpointTests
{
    private const string RetinaFace = "models/retinaface_mobilenet0.25_Final.pth";

    [AssetFact(RetinaFace)]
    public void Reads_every_float_tensor_of_the_real_retinaface_checkpoint()
    {
        var weights = TorchCheckpointReader.ReadStateDict(TestAssets.PathOf(RetinaFace));

        Assert.Equal(253, weights.Count);
        Assert.Equal(433_296, weights.TotalElements);
        Assert.DoesNotContain(weights.Names, n => n.EndsWith("num_batches_tracked", StringComparison.Ordinal));
        Assert.Equal("body.stage1.0.0.weight", weights.Names[0]);
        Assert.Equal("LandmarkHead.2.conv1x1.bias", weights.Names[^1]);
        Assert.Equal([8, 3, 3, 3], weights["body.stage1.0.0.weight"].Shape);
        Assert.Equal([4, 64, 1, 1], weights["ClassHead.0.conv1x1.weight"].Shape);
        Assert.Equal([20, 64, 1, 1], weights["LandmarkHead.2.conv1x1.weight"].Shape);
    }

    [AssetFact(RetinaFace)]
    public void Values_are_finite_match_an_independent_decoder_and_variances_are_positive()
    {
        var weights = TorchCheckpointReader.ReadStateDict(TestAssets.PathOf(RetinaFace));

        Assert.All(weights.Names, name => Assert.All(weights[name].Data, v => Assert.True(float.IsFinite(v), $"{name} has {v}")));
        var variances = weights.Names.Where(n => n.EndsWith("running_var", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(variances);
        Assert.All(variances, name => Assert.All(weights[name].Data, v => Assert.True(v > 0, $"{name} has variance {v}")));
        // First values as Python's struct module decodes them from the same bytes.
        Assert.Equal([0.10497289150953293f, -0.00853274017572403f, -0.05757106840610504f], weights["body.stage1.0.0.weight"].Data[..3]);
        Assert.Equal([8825.505859375f, 20446.525390625f, 98220.7890625f], weights["body.stage1.0.1.running_var"].Data[..3]);
        Assert.Equal([0.5819576978683472f, -0.5626058578491211f, 0.5956407785415649f], weights["ClassHead.0.conv1x1.bias"].Data[..3]);
    }

    [AssetFact(RetinaFace)]
    public void A_truncated_legacy_file_fails_naming_the_problem()
    {
        using var dir = new TemporaryDirectory();
        var bytes = File.ReadAllBytes(TestAssets.PathOf(RetinaFace));
        string path = dir.File("truncated.pth");
        File.WriteAllBytes(path, bytes[..(bytes.Length - 1000)]);

        var error = Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.ReadStateDict(path));

        Assert.Contains("truncated", error.Message);
    }
}
