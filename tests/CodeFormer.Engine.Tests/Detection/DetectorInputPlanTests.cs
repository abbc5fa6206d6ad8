using CodeFormer.Engine.Detection;
using CodeFormer.Engine.Imaging;

namespace CodeFormer.Engine.Tests.Detection;

public sealed class DetectorInputPlanTests
{
    [Fact]
    public void DynamicModelsScaleTheShortSideTo640AndPadToMultiplesOf32()
    {
        var plan = DetectorInputPlan.Create(1280, 926, 640, null, null, 32);
        Assert.Equal(640.0 / 926, plan.Scale, 12);
        Assert.Equal((int)(1280 * (640.0 / 926)), plan.ResizedWidth);
        Assert.Equal(640, plan.ResizedHeight);
        Assert.Equal(896, plan.CanvasWidth);
        Assert.Equal(640, plan.CanvasHeight);
    }

    [Fact]
    public void ShortSideSizingTruncatesLikePythonInt()
    {
        // The reference computes int(606 · (640 / 606)) = int(639.999…) = 639 in float64; so do we.
        var plan = DetectorInputPlan.Create(700, 606, 640, null, null, 32);
        Assert.Equal(639, plan.ResizedHeight);
        Assert.Equal(640, plan.CanvasHeight);
    }

    [Fact]
    public void SmallImagesAreEnlargedToTheShortSide()
    {
        var plan = DetectorInputPlan.Create(128, 128, 640, 640, 640, 32);
        Assert.Equal(5.0, plan.Scale, 12);
        Assert.Equal((640, 640, 640, 640), (plan.ResizedWidth, plan.ResizedHeight, plan.CanvasWidth, plan.CanvasHeight));
    }

    [Fact]
    public void FixedCanvasScalesTheLongSideInsteadWhenTheShortSideRuleOverflows()
    {
        var plan = DetectorInputPlan.Create(1280, 926, 640, 640, 640, 32);
        Assert.Equal(0.5, plan.Scale, 12);
        Assert.Equal((640, 463, 640, 640), (plan.ResizedWidth, plan.ResizedHeight, plan.CanvasWidth, plan.CanvasHeight));
        var portrait = DetectorInputPlan.Create(517, 606, 640, 640, 640, 32);
        Assert.Equal(640.0 / 606, portrait.Scale, 12);
        Assert.Equal((546, 640), (portrait.ResizedWidth, portrait.ResizedHeight));
    }

    [Fact]
    public void TensorIsBgrPlanesMinusMeanWithZeroPadding()
    {
        var image = new RgbImage(2, 1, [10, 20, 30, 40, 50, 60]);
        var plan = DetectorInputPlan.Create(2, 1, 1, 4, 2, 32);
        Assert.Equal(1.0, plan.Scale);
        var tensor = plan.ToBgrTensor(image, (1, 2, 3));
        // Plane B: pixels' blue minus 1 at (0,0) and (1,0); the rest of the 4×2 canvas is 0.
        Assert.Equal([29f, 59f, 0, 0, 0, 0, 0, 0], tensor[..8]);
        Assert.Equal([18f, 48f, 0, 0, 0, 0, 0, 0], tensor[8..16]);
        Assert.Equal([7f, 37f, 0, 0, 0, 0, 0, 0], tensor[16..24]);
    }

    [Fact]
    public void ExtremeAspectRatiosAreRejectedForDynamicModels()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => DetectorInputPlan.Create(200000, 10, 640, null, null, 32));
        Assert.Contains("200000×10", error.Message);
    }
}
