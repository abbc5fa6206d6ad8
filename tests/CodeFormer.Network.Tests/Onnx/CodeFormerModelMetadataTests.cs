using CodeFormer.Network.Architecture;
using CodeFormer.Network.Onnx;

namespace CodeFormer.Network.Tests.Onnx;

public sealed class CodeFormerModelMetadataTests
{
    [Fact]
    public void Architecture_round_trips_through_its_json_with_only_the_settable_values()
    {
        var inpainting = CodeFormerArchitecture.Inpainting;

        string json = CodeFormerModelMetadata.SerializeArchitecture(inpainting);
        var read = CodeFormerModelMetadata.DeserializeArchitecture(json);

        Assert.DoesNotContain("HeadDim", json);
        Assert.Contains("\"CodebookSize\":512", json);
        Assert.Equal(inpainting.FuseResolutions, read.FuseResolutions);
        Assert.Equal(inpainting.CodebookSize, read.CodebookSize);
        Assert.Equal(json, CodeFormerModelMetadata.SerializeArchitecture(read));
    }

    [Fact]
    public void An_inconsistent_architecture_in_metadata_is_rejected_with_the_reason()
    {
        string json = CodeFormerModelMetadata.SerializeArchitecture(CodeFormerArchitecture.Full).Replace("\"ImageSize\":512", "\"ImageSize\":500");

        var error = Assert.Throws<ArgumentException>(() => CodeFormerModelMetadata.DeserializeArchitecture(json));

        Assert.Contains("500", error.Message);
    }

    [Fact]
    public void Empty_architecture_metadata_is_a_format_error()
        => Assert.Throws<FormatException>(() => CodeFormerModelMetadata.DeserializeArchitecture("null"));
}
