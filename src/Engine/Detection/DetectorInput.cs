using CodeFormer.Engine.Imaging;

namespace CodeFormer.Engine.Detection;

/// <summary>
/// Where the image goes in the detector's input: the scale applied to it, its size after scaling and the
/// canvas (the tensor's H×W) it is placed into, top-left, the rest padded.
/// Coordinates found on the canvas map back to the image by dividing by <see cref="Scale"/>, as the reference does.
/// </summary>
internal sealed record DetectorInputPlan(double Scale, int ResizedWidth, int ResizedHeight, int CanvasWidth, int CanvasHeight)
{
    /// <summary>
    /// The reference's sizing (B.3): scale = shortSide / min(w, h), size = int(w·scale) × int(h·scale).
    /// A fixed canvas must hold the whole scaled image: when it does not, the long side is scaled to the canvas
    /// instead (a deviation forced by the fixed-size ONNX export; the reference runs at any size).
    /// Without a fixed canvas, the canvas is the scaled size rounded up to <paramref name="divisor"/>.
    /// </summary>
    public static DetectorInputPlan Create(int width, int height, int shortSide, int? fixedCanvasWidth, int? fixedCanvasHeight, int divisor)
    {
        if (width <= 0 || height <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"Image size {width}×{height} is not positive.");
        }
        double scale = (double)shortSide / Math.Min(width, height);
        int resizedWidth = Truncate(width * scale);
        int resizedHeight = Truncate(height * scale);
        if (fixedCanvasWidth is { } canvasWidth && fixedCanvasHeight is { } canvasHeight)
        {
            if (resizedWidth > canvasWidth || resizedHeight > canvasHeight)
            {
                scale = Math.Min((double)canvasWidth / width, (double)canvasHeight / height);
                // Our own rule, not the reference's: a tolerance so 606·(640/606) = 639.999… still fills the canvas.
                resizedWidth = Math.Min(canvasWidth, Truncate(width * scale + 1e-6));
                resizedHeight = Math.Min(canvasHeight, Truncate(height * scale + 1e-6));
            }
            return new DetectorInputPlan(scale, resizedWidth, resizedHeight, canvasWidth, canvasHeight);
        }
        long paddedWidth = RoundUp(resizedWidth, divisor);
        long paddedHeight = RoundUp(resizedHeight, divisor);
        if (paddedWidth * paddedHeight > 64L * 1024 * 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(width),
                $"A {width}×{height} image scaled to short side {shortSide} needs a {paddedWidth}×{paddedHeight} detector input, which is too large (aspect ratio too extreme).");
        }
        return new DetectorInputPlan(scale, resizedWidth, resizedHeight, (int)paddedWidth, (int)paddedHeight);
    }

    /// <summary>The reference's int(size · scale): truncation toward zero; never 0, so that extreme aspect ratios still give an image.</summary>
    public static int ScaledSize(int size, double scale) => Truncate(size * scale);

    private static int Truncate(double value) => Math.Max(1, (int)Math.Min(value, int.MaxValue / 4));

    private static long RoundUp(int value, int divisor) => (value + (long)divisor - 1) / divisor * divisor;

    /// <summary>The image at this plan's scale: INTER_AREA when shrinking, INTER_LINEAR when enlarging (the reference's choice).</summary>
    public RgbImage Resize(RgbImage image) =>
        ResizedWidth == image.Width && ResizedHeight == image.Height
            ? image
            : Scale < 1
                ? ImageResizer.ResizeArea(image, ResizedWidth, ResizedHeight)
                : ImageResizer.ResizeBilinear(image, ResizedWidth, ResizedHeight);

    /// <summary>The whole resized image, top-left in the canvas, as an NCHW BGR tensor minus <paramref name="meanBgr"/>.</summary>
    public float[] ToBgrTensor(RgbImage image, (float B, float G, float R) meanBgr) =>
        DetectorTensor.FromRegion(Resize(image), 0, 0, ResizedWidth, ResizedHeight, CanvasWidth, CanvasHeight, meanBgr);

    /// <summary>
    /// <see cref="ToBgrTensor"/> with the resized copy and the tensor taken from the spares (and the resized copy given
    /// back): a detector that sees the same image size again (video frames) allocates neither. The caller gives the tensor back.
    /// </summary>
    public float[] ToBgrTensor(RgbImage image, (float B, float G, float R) meanBgr, SpareArray<float> resizedSpare, SpareArray<float> tensorSpare)
    {
        bool resize = ResizedWidth != image.Width || ResizedHeight != image.Height;
        var resized = image;
        if (resize)
        {
            resized = new RgbImage(ResizedWidth, ResizedHeight, resizedSpare.Take(ResizedWidth * ResizedHeight * 3));
            if (Scale < 1)
            {
                ImageResizer.ResizeAreaInto(image, resized);
            }
            else
            {
                ImageResizer.ResizeBilinearInto(image, resized);
            }
        }
        var tensor = tensorSpare.Take(3 * CanvasWidth * CanvasHeight);
        // A reused tensor still holds the last image; the padding must be zero again.
        Array.Clear(tensor);
        DetectorTensor.FillRegion(resized, 0, 0, ResizedWidth, ResizedHeight, CanvasWidth, CanvasHeight, meanBgr, tensor);
        if (resize)
        {
            resizedSpare.Give(resized.Pixels);
        }
        return tensor;
    }
}

/// <summary>Writes a region of an RGB image into a detector's NCHW float BGR tensor.</summary>
internal static class DetectorTensor
{
    /// <summary>
    /// The <paramref name="width"/>×<paramref name="height"/> region at (<paramref name="x"/>, <paramref name="y"/>)
    /// goes top-left into a canvas of the given size, minus <paramref name="meanBgr"/>. The rest of the canvas is 0
    /// in the tensor, i.e. after mean subtraction (each detector says what that means for it).
    /// </summary>
    public static float[] FromRegion(
        RgbImage image, int x, int y, int width, int height, int canvasWidth, int canvasHeight, (float B, float G, float R) meanBgr)
    {
        if (x < 0 || y < 0 || width > canvasWidth || height > canvasHeight || x + width > image.Width || y + height > image.Height)
        {
            throw new ArgumentOutOfRangeException(nameof(x),
                $"Region {width}×{height} at ({x}, {y}) does not fit a {image.Width}×{image.Height} image or a {canvasWidth}×{canvasHeight} canvas.");
        }
        var tensor = new float[3 * canvasWidth * canvasHeight];
        FillRegion(image, x, y, width, height, canvasWidth, canvasHeight, meanBgr, tensor);
        return tensor;
    }

    /// <summary><see cref="FromRegion"/> into a zeroed tensor of 3 × canvas values.</summary>
    public static void FillRegion(
        RgbImage image, int x, int y, int width, int height, int canvasWidth, int canvasHeight, (float B, float G, float R) meanBgr, float[] tensor)
    {
        if (x < 0 || y < 0 || width > canvasWidth || height > canvasHeight || x + width > image.Width || y + height > image.Height)
        {
            throw new ArgumentOutOfRangeException(nameof(x),
                $"Region {width}×{height} at ({x}, {y}) does not fit a {image.Width}×{image.Height} image or a {canvasWidth}×{canvasHeight} canvas.");
        }
        int plane = canvasWidth * canvasHeight;
        if (tensor.Length != 3 * plane)
        {
            throw new ArgumentException($"A {canvasWidth}×{canvasHeight} canvas needs {3 * plane} tensor values, got {tensor.Length}.", nameof(tensor));
        }
        var pixels = image.Pixels;
        int imageWidth = image.Width;
        Parallel.For(0, height, row =>
        {
            int source = ((y + row) * imageWidth + x) * 3;
            int target = row * canvasWidth;
            for (int column = 0; column < width; column++, source += 3, target++)
            {
                tensor[target] = pixels[source + 2] - meanBgr.B;
                tensor[plane + target] = pixels[source + 1] - meanBgr.G;
                tensor[2 * plane + target] = pixels[source] - meanBgr.R;
            }
        });
    }
}
