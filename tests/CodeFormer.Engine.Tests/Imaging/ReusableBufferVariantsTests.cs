using System.Numerics;
using CodeFormer.Engine.Compositing;
using CodeFormer.Engine.Geometry;
using CodeFormer.Engine.Imaging;
using CodeFormer.Engine.Pipeline;

namespace CodeFormer.Engine.Tests.Imaging;

/// <summary>
/// The "into an existing buffer" forms that video uses to reuse its buffers give exactly the values of the allocating
/// forms the photo pipeline uses, whatever the reused buffer held before.
/// </summary>
public sealed class ReusableBufferVariantsTests
{
    private static RgbImage Dirty(int width, int height) => RgbImages.Filled(width, height, 7, 77, 177);

    [Theory]
    [InlineData(160, 120, 683, 512)]
    [InlineData(517, 606, 300, 352)]
    public void Resizing_into_an_image_equals_resizing_to_a_new_one(int width, int height, int newWidth, int newHeight)
    {
        var source = RgbImages.Noise(width, height, seed: 3);
        var bilinear = Dirty(newWidth, newHeight);
        var area = Dirty(newWidth, newHeight);

        ImageResizer.ResizeBilinearInto(source, bilinear);
        ImageResizer.ResizeAreaInto(source, area);

        Assert.Equal(ImageResizer.ResizeBilinear(source, newWidth, newHeight).Pixels, bilinear.Pixels);
        Assert.Equal(ImageResizer.ResizeArea(source, newWidth, newHeight).Pixels, area.Pixels);
    }

    [Fact]
    public void Aligning_into_a_crop_equals_aligning_to_a_new_one()
    {
        var image = RgbImages.Noise(320, 240, seed: 5);
        Vector2[] landmarks = [new(140, 100), new(190, 102), new(165, 130), new(145, 160), new(188, 158)];
        var aligner = new FaceAligner();
        var crop = Dirty(64, 64);

        var into = aligner.AlignInto(image, landmarks, crop);
        var fresh = aligner.Align(image, landmarks, 64);

        Assert.Same(crop, into.Crop);
        Assert.Equal(fresh.ImageToFace, into.ImageToFace);
        Assert.Equal(fresh.Crop.Pixels, crop.Pixels);
        Assert.Throws<ArgumentException>(() => aligner.AlignInto(image, landmarks, Dirty(64, 32)));
    }

    [Theory]
    [InlineData(64)]
    [InlineData(512)] // large enough for the warp's rows to run in parallel
    public void Aligning_straight_into_the_network_layout_equals_aligning_then_packing_bit_for_bit(int faceSize)
    {
        var image = RgbImages.Noise(320, 240, seed: 5);
        // The face reaches past the image's left and top edges, so the border and part-outside paths are taken too.
        Vector2[] landmarks = [new(10, 8), new(60, 10), new(35, 38), new(15, 68), new(58, 66)];
        var aligner = new FaceAligner();
        var tensor = Enumerable.Repeat(42f, 3 * faceSize * faceSize).ToArray();

        var imageToFace = aligner.AlignToNetworkLayout(image, landmarks, faceSize, tensor);

        var aligned = aligner.Align(image, landmarks, faceSize);
        var packed = new float[tensor.Length];
        FaceTensorLayout.Pack([aligned.Crop], packed);
        Assert.Equal(aligned.ImageToFace, imageToFace);
        Assert.Equal(packed, tensor);
        Assert.Contains(aligned.Crop.Pixels, v => v == 132f); // the grey border was sampled
        Assert.Throws<ArgumentException>(() => aligner.AlignToNetworkLayout(image, landmarks, faceSize, new float[tensor.Length - 1]));
    }

    [Fact]
    public void Unpacking_into_a_face_equals_unpacking_to_a_new_one()
    {
        var random = new Random(9);
        var batch = new float[2 * 3 * 16 * 16];
        for (int i = 0; i < batch.Length; i++)
        {
            batch[i] = (float)(random.NextDouble() * 2.4 - 1.2);
        }
        var face = Dirty(16, 16);

        FaceTensorLayout.UnpackInto(batch, 1, face);

        Assert.Equal(FaceTensorLayout.Unpack(batch, 1, 16).Pixels, face.Pixels);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Preparing_a_restored_face_in_place_equals_preparing_a_new_one(bool greyscale, bool withCrop)
    {
        var restored = RgbImages.Noise(32, 32, seed: 11);
        var crop = withCrop ? RgbImages.Noise(32, 32, seed: 12) : null;
        var expected = GreyscaleFaces.PrepareRestoredFace(restored.Clone(), greyscale, crop);

        GreyscaleFaces.PrepareRestoredFaceInPlace(restored, greyscale, crop);

        Assert.Equal(expected.Pixels, restored.Pixels);
    }

    [Fact]
    public void Preparing_a_grey_face_with_the_crops_statistics_taken_beforehand_equals_preparing_it_with_the_crop()
    {
        var restored = RgbImages.Noise(32, 32, seed: 11);
        var crop = RgbImages.Noise(32, 32, seed: 12);
        var expected = GreyscaleFaces.PrepareRestoredFace(restored.Clone(), inputIsGreyscale: true, crop);
        var statistics = GreyscaleFaces.StatisticsOf(crop);

        GreyscaleFaces.PrepareRestoredFaceInPlace(restored, inputIsGreyscale: true, statistics);

        Assert.Equal(expected.Pixels, restored.Pixels);
        Assert.NotEqual(GreyscaleFaces.ToGrey(RgbImages.Noise(32, 32, seed: 11)).Pixels, restored.Pixels); // the statistics were applied
    }
}
