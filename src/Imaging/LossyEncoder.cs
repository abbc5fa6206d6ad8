using System.Runtime.InteropServices;
using SkiaSharp;

namespace CodeFormer.Imaging;

/// <summary>
/// JPEG and WebP through SkiaSharp's libjpeg-turbo and libwebp, from 8-bit samples packed four (RGBA) or one (grey) a
/// pixel. It exists for memory: ImageSharp 2.x's JPEG encoder needed the whole result as an 8-bit image plus its own
/// buffers, about 8 bytes an output pixel beside the float canvas (3,062 MiB peak for 24 MP at s = 2). libjpeg-turbo
/// compresses the pixmap a few rows at a time, so the only whole-image buffer is the 8-bit one — and
/// <see cref="Write"/> with <c>packInPlace</c> writes that into the float image's own memory (4 of its 12 bytes a pixel),
/// so a full-size encode allocates nothing of the image's size at all. libjpeg-turbo is also what OpenCV (the
/// reference's cv2.imwrite) writes JPEG with.
/// </summary>
internal static class LossyEncoder
{
    /// <summary>Pixels converted one after another before the packing may go parallel (see <see cref="PackInPlace"/>).</summary>
    private const long SequentialStart = 1 << 16;

    /// <param name="greyscale">JPEG: one luma channel. WebP: luma in all three channels (WebP has no grey mode).</param>
    /// <param name="packInPlace">Overwrite <paramref name="image"/>'s pixels with the 8-bit samples: the image is garbage afterwards.</param>
    public static unsafe void Write(Stream destination, RgbImage image, ImageFileFormat format, int quality, bool greyscale, bool keepAlpha, bool packInPlace)
    {
        bool grey = greyscale && format == ImageFileFormat.Jpeg;
        int bytesPerPixel = grey ? 1 : 4;
        long pixelCount = (long)image.Width * image.Height;
        var info = new SKImageInfo(image.Width, image.Height,
            grey ? SKColorType.Gray8 : SKColorType.Rgba8888,
            grey ? SKAlphaType.Opaque : keepAlpha ? SKAlphaType.Unpremul : SKAlphaType.Opaque);
        int rowBytes = checked(image.Width * bytesPerPixel);
        var pack = new Packing(image, grey, greyscale, keepAlpha);
        if (packInPlace)
        {
            fixed (float* pixels = image.Pixels)
            {
                PackInPlace(pack, (byte*)pixels, pixelCount, bytesPerPixel);
                Encode(destination, info, (IntPtr)pixels, rowBytes, format, quality);
            }
            return;
        }
        var buffer = (byte*)NativeMemory.Alloc((nuint)(pixelCount * bytesPerPixel));
        try
        {
            Parallel.For(0, image.Height, y => pack.Pixels((byte*)buffer, (long)y * image.Width, image.Width, bytesPerPixel));
            Encode(destination, info, (IntPtr)buffer, rowBytes, format, quality);
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    /// <summary>
    /// Pixel i's samples go to bytes [b·i, b·i + b) (b = 1 or 4) of the array whose floats [3i, 3i + 3) it reads from,
    /// so the write never lands ahead of an unread pixel. A range [a, 3a) writes only floats [a·b/4, 3a·b/4) ⊂ [0, 3a),
    /// all read already, and reads only floats from 3a on: its pixels can run in parallel once [0, a) is done.
    /// </summary>
    private static unsafe void PackInPlace(Packing pack, byte* pixels, long pixelCount, int bytesPerPixel)
    {
        long done = Math.Min(pixelCount, SequentialStart);
        pack.Pixels(pixels, 0, (int)done, bytesPerPixel);
        while (done < pixelCount)
        {
            long end = Math.Min(pixelCount, 3 * done);
            long chunk = Math.Max(SequentialStart, (end - done) / (4 * Environment.ProcessorCount));
            long start = done;
            Parallel.For(0, (end - start + chunk - 1) / chunk, k =>
            {
                long first = start + k * chunk;
                pack.Pixels(pixels, first, (int)Math.Min(chunk, end - first), bytesPerPixel);
            });
            done = end;
        }
    }

    private static void Encode(Stream destination, SKImageInfo info, IntPtr pixels, int rowBytes, ImageFileFormat format, int quality)
    {
        using var pixmap = new SKPixmap(info, pixels, rowBytes);
        bool written = format switch
        {
            // 4:2:0 as before (ImageSharp's YCbCrRatio420) and as cv2.imwrite writes colour JPEG.
            ImageFileFormat.Jpeg => pixmap.Encode(destination, new SKJpegEncoderOptions(quality, SKJpegEncoderDownsample.Downsample420, SKJpegEncoderAlphaOption.Ignore)),
            // Lossy, as before: a lossless WebP of a large result is slow and larger than the PNG the user could choose.
            ImageFileFormat.Webp => pixmap.Encode(destination, new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossy, quality)),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Only JPEG and WebP are encoded here."),
        };
        if (!written)
        {
            throw new InvalidOperationException($"The {format} encoder could not write a {info.Width}×{info.Height} image.");
        }
    }

    /// <summary>Rounds and clamps float samples (as <see cref="ImageEncoder.ToByte"/>) into 8-bit pixels.</summary>
    private sealed class Packing(RgbImage image, bool singleChannel, bool greyscale, bool keepAlpha)
    {
        private readonly float[] _rgb = image.Pixels;
        private readonly float[]? _alpha = keepAlpha ? image.Alpha : null;

        public unsafe void Pixels(byte* destination, long first, int count, int bytesPerPixel)
        {
            for (long i = first; i < first + count; i++)
            {
                float r = _rgb[3 * i], g = _rgb[3 * i + 1], b = _rgb[3 * i + 2];
                if (singleChannel)
                {
                    destination[i] = ImageEncoder.ToByte(ImageEncoder.Luma(r, g, b));
                    continue;
                }
                byte* pixel = destination + 4 * i;
                if (greyscale)
                {
                    byte l = ImageEncoder.ToByte(ImageEncoder.Luma(r, g, b));
                    pixel[0] = l;
                    pixel[1] = l;
                    pixel[2] = l;
                }
                else
                {
                    pixel[0] = ImageEncoder.ToByte(r);
                    pixel[1] = ImageEncoder.ToByte(g);
                    pixel[2] = ImageEncoder.ToByte(b);
                }
                pixel[3] = _alpha is null ? (byte)255 : ImageEncoder.ToByte(_alpha[i]);
            }
        }
    }
}
