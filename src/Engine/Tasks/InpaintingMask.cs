namespace CodeFormer.Engine.Tasks;

/// <summary>
/// Which pixels of an aligned face inpainting fills: one float per pixel, 1 = fill, 0 = keep. The reference reads the
/// mask off the input (doc B.11): after normalising to [-1, 1] per channel, a pixel whose three channels sum to
/// exactly 3 — pure white — is a hole. An explicit mask image (white = fill) is our addition.
/// </summary>
public static class InpaintingMask
{
    /// <summary>The reference's rule, computed as it computes it: float32 (x / 255 − 0.5) / 0.5, summed over channels, == 3.</summary>
    public static float[] FromWhitePixels(RgbImage face)
    {
        ArgumentNullException.ThrowIfNull(face);
        var mask = new float[face.Width * face.Height];
        var pixels = face.Pixels;
        for (int i = 0; i < mask.Length; i++)
        {
            float sum = Normalised(pixels[3 * i]) + Normalised(pixels[3 * i + 1]) + Normalised(pixels[3 * i + 2]);
            mask[i] = sum == 3f ? 1f : 0f;
        }
        return mask;
    }

    /// <summary>
    /// An explicit mask: a pixel is filled where its mean channel value is at least half-way to white, so anti-aliased
    /// or JPEG-softened masks still give a hard edge. It must have the face's size.
    /// </summary>
    public static float[] FromMaskImage(RgbImage maskImage, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(maskImage);
        if (maskImage.Width != width || maskImage.Height != height)
        {
            throw new ArgumentException($"The mask is {maskImage.Width} × {maskImage.Height}; it must match the face, {width} × {height}.");
        }
        var mask = new float[width * height];
        var pixels = maskImage.Pixels;
        for (int i = 0; i < mask.Length; i++)
        {
            mask[i] = (pixels[3 * i] + pixels[3 * i + 1] + pixels[3 * i + 2]) / 3f >= 127.5f ? 1f : 0f;
        }
        return mask;
    }

    /// <summary>
    /// The face as the inpainting network expects it: holes pure white, as in its training and as the reference's
    /// mask rule assumes. With the white-pixel rule this changes nothing; with an explicit mask it paints the holes.
    /// </summary>
    public static RgbImage PaintHolesWhite(RgbImage face, ReadOnlySpan<float> mask)
    {
        var painted = face.Clone();
        for (int i = 0; i < mask.Length; i++)
        {
            if (mask[i] > 0)
            {
                painted.Pixels[3 * i] = painted.Pixels[3 * i + 1] = painted.Pixels[3 * i + 2] = 255f;
            }
        }
        return painted;
    }

    /// <summary>(1 − mask)·input + mask·network, per pixel: unmasked pixels keep the input's exact values.</summary>
    public static RgbImage Composite(RgbImage input, RgbImage network, ReadOnlySpan<float> mask)
    {
        if (input.Width != network.Width || input.Height != network.Height)
        {
            throw new ArgumentException($"Input {input.Width} × {input.Height} and network output {network.Width} × {network.Height} differ.");
        }
        var result = input.Clone();
        for (int i = 0; i < mask.Length; i++)
        {
            float m = mask[i];
            if (m == 0)
            {
                continue;
            }
            for (int c = 0; c < 3; c++)
            {
                int k = 3 * i + c;
                result.Pixels[k] = (1 - m) * input.Pixels[k] + m * network.Pixels[k];
            }
        }
        return result;
    }

    public static int Count(ReadOnlySpan<float> mask)
    {
        int count = 0;
        foreach (float m in mask)
        {
            count += m > 0 ? 1 : 0;
        }
        return count;
    }

    private static float Normalised(float value) => (value / 255f - 0.5f) / 0.5f;
}
