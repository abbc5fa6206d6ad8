using System.Globalization;

namespace CodeFormer.Engine.Pipeline;

/// <summary>
/// The peak memory of restoring one photo, estimated from its header and the options before anything is decoded, by
/// stage: the engine's resident models plus the largest of what each stage holds at once. Every term is a buffer
/// the pipeline really allocates (float RGB is 12 bytes a pixel, alpha 4 more); <see cref="Slack"/> covers what the
/// garbage collector has not yet given back between stages. Checked against <c>bench memory</c> (docs/benchmarks.md)
/// and <c>PhotoMemoryEstimatorTests</c>.
/// </summary>
public sealed record PhotoMemoryEstimate(
    long EngineBytes,
    long DecodeBytes,
    long DetectAndRestoreBytes,
    long BackgroundBytes,
    long EncodeBytes)
{
    /// <summary>The stages do not overlap: the peak is the engine plus the largest stage.</summary>
    public long PhotoBytes => Math.Max(Math.Max(DecodeBytes, DetectAndRestoreBytes), Math.Max(BackgroundBytes, EncodeBytes));

    public long TotalBytes => EngineBytes + PhotoBytes;

    public string LargestStage =>
        PhotoBytes == DecodeBytes ? "decoding"
        : PhotoBytes == DetectAndRestoreBytes ? "detecting and restoring faces"
        : PhotoBytes == BackgroundBytes ? "upscaling the background and pasting faces"
        : "encoding the result";

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Mib(TotalBytes)} MiB = engine {Mib(EngineBytes)} + largest stage {Mib(PhotoBytes)} ({LargestStage}); " +
        $"decode {Mib(DecodeBytes)}, detect+restore {Mib(DetectAndRestoreBytes)}, background+paste {Mib(BackgroundBytes)}, encode {Mib(EncodeBytes)} MiB");

    internal static string Mib(long bytes) => (bytes >> 20).ToString("N0", CultureInfo.InvariantCulture);
}

/// <summary>What the estimate needs to know about the engine that will run the photo.</summary>
/// <param name="ResidentBytes">What the process holds with the engine ready (runtime and loaded models), before any photo.</param>
/// <param name="FaceSize">Side of the aligned faces (512 for CodeFormer).</param>
/// <param name="BatchSize">Faces per network call.</param>
/// <param name="NetworkBytesPerFace">Working memory of one network call per face in the batch, at <paramref name="FaceSize"/>.</param>
public sealed record EngineMemoryProfile(long ResidentBytes, int FaceSize, int BatchSize, long NetworkBytesPerFace)
{
    /// <summary>
    /// CodeFormer's working memory for one 512² face per call on the CPU provider without the memory arena, with what
    /// the native heap keeps between the calls of a 29-face photo: <c>bench memory</c> on Solvay at 12 and 24 MP, s = 1,
    /// measured the resident set rising 613–627 MiB from the restore stage's lowest (after the pre-network release, so
    /// nothing else is freed then) to its highest, in three runs (2026-12-01 22:34–23:43 UTC). Each face is restored in
    /// place in its own array, so the rise is the network's alone. Rounded up.
    /// </summary>
    public const long CodeFormerBytesPerFace = 640L << 20;

    /// <summary>
    /// What a face costs the host when the network runs on a GPU: its activations live in device memory, and the host
    /// holds only the batch's packed input and output tensors (float32 RGB at <paramref name="faceSize"/>²). Counting
    /// <see cref="CodeFormerBytesPerFace"/> there would refuse every photo under the default budget at CUDA's batch of 8.
    /// </summary>
    public static long HostTensorBytesPerFace(int faceSize) => 2L * 3 * faceSize * faceSize * sizeof(float);
}

/// <summary>The estimator itself: pure arithmetic on the header, the options and the engine's profile.</summary>
public static class PhotoMemoryEstimator
{
    /// <summary>
    /// Faces assumed before detection when the options set no <see cref="RestorationOptions.MaxFaces"/>: the estimate is
    /// made again with the real count once faces are found (crowds cost 3 crops of 3 MiB a face at 512²).
    /// </summary>
    public const int AssumedFaces = 32;

    /// <summary>
    /// Allowance for what the garbage collector still holds between stages (arrays dead but not yet collected) and for
    /// the runtime's own growth: 10 % of each stage, at least 16 MiB. Set from peaks measured in fresh processes
    /// (bench and the probe the tests run): at 15 % every estimate sat 7–29 % above its peak, the 6.2 MP JPEG at s = 1
    /// 28–29 %, outside the 25 % the estimate is held to; at 10 % every measured peak is still under its estimate.
    /// </summary>
    private const double Slack = 0.10;
    private const long MinimumSlack = 16L << 20;

    private const int FloatRgb = 12;
    private const int FloatAlpha = 4;

    /// <summary>The reference's enlargement of small photos: short side below 512 becomes 512 (RestorationEngine.MinimumShortSide).</summary>
    public static (int Width, int Height) WorkingSize(int width, int height)
    {
        int shortSide = Math.Min(width, height);
        if (shortSide >= RestorationEngine.MinimumShortSide)
        {
            return (width, height);
        }
        double f = (double)RestorationEngine.MinimumShortSide / shortSide;
        return ((int)Math.Round(width * f), (int)Math.Round(height * f));
    }

    /// <param name="fileBytes">Size of the encoded input.</param>
    /// <param name="faces">Faces to restore: the number found, or a bound before detection.</param>
    /// <param name="upsamplerScale">The background model's own scale (2 for x2plus), when background upsampling is on.</param>
    public static PhotoMemoryEstimate Estimate(ImageHeader header, long fileBytes, RestorationOptions options, EngineMemoryProfile engine, int faces, int upsamplerScale = 2)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(engine);
        int s = options.Upscale;
        long input = header.PixelCount;
        long pixelBytes = FloatRgb + (header.HasAlpha ? FloatAlpha : 0);
        long original = input * pixelBytes;
        var (workWidth, workHeight) = WorkingSize(header.Width, header.Height);
        long work = (long)workWidth * workHeight;
        long enlargedCopy = work == input ? 0 : work * pixelBytes;
        long output = options.InputIsAligned ? (long)engine.FaceSize * engine.FaceSize : work * s * s;
        // At s = 1 the faces are pasted into the working image itself unless something else still needs it.
        bool pastesInPlace = s == 1 && !options.IncludeComparison && !options.BackgroundUpsample && !options.InputIsAligned;
        long canvas = pastesInPlace ? 0 : output * pixelBytes;
        long face = (long)FloatRgb * engine.FaceSize * engine.FaceSize;

        // Decode: the bytes (the caller's and the engine's copy), the decoder's pixels (4 bytes a pixel, 8 for 16-bit;
        // a second copy while EXIF orientation is applied), the JPEG decoder's coefficient planes, and the float image.
        long decoderPixels = input * (header.BitDepth == 16 ? 8 : 4) * (header.ExifOrientation == 1 ? 1 : 2);
        long jpegPlanes = header.Format == ImageFileFormat.Jpeg ? input * 6 : 0;
        long decode = 2 * fileBytes + decoderPixels + jpegPlanes + original;

        // Detect and restore: the photo (and its enlarged copy), one face-sized array per face (aligned straight into the
        // network's layout, restored in place: FaceTensorPool) and one scratch crop, the network's working memory, the
        // detector's 640-side input. Faces handed back as images keep their aligned crop as well.
        long facesInFlight = (faces * (options.IncludeFaceImages ? 2 : 1) + 1) * face;
        // At paste the faces' arrays are still held, plus the one reused image each face is unpacked into.
        long facesHeld = facesInFlight + face;
        long network = engine.BatchSize * engine.NetworkBytesPerFace * engine.FaceSize / 512 * engine.FaceSize / 512;
        // The detector's input: the photo at a 640 short side, resized and then laid out as planes (two copies).
        long detectorInput = 2L * FloatRgb * 640 * 640 * Math.Max(header.Width, header.Height) / Math.Max(1, Math.Min(header.Width, header.Height));
        // The detector's own working memory (YuNet at a 640 short side, for Solvay's aspect of 1.45): in a warmed-up
        // process (the probe the tests run: 6.2 MP, s = 1, where detection is the largest stage) the photo's peak put it
        // at 45–55 MiB; the first photo of a process measured 68–80 MiB (bench memory, no warm-up), ONNX Runtime's and
        // the runtime's one-time work included. The warm figure is taken: a worker restores many photos, and with the
        // full-size network this term never decides the stage (the network's 640 MiB does).
        long detector = (56L << 20) * Math.Max(header.Width, header.Height) / Math.Max(1, Math.Min(header.Width, header.Height)) * 2 / 3;
        long restore = original + enlargedCopy + facesInFlight + Math.Max(network, detectorInput + detector);

        // Background and paste: the photo, the canvas, the faces; Real-ESRGAN adds its planar input and padded copy,
        // its own-scale output, and a tile's working memory; face upsampling adds each face at s× its side.
        // Pasting leaves each face's warped copy and feather planes as garbage until the paster collects (every
        // FacePaster.PasteGarbageLimit): measured ~94 MiB for Solvay's 29 faces at 3.1 MP, s = 2 when a footprint pixel
        // cost 36 bytes (a fifth of the canvas covered); now PasteScratchBytesPerOutputPixel.
        long pasteGarbage = Math.Min(output * PasteScratchBytesPerOutputPixel / 5, PasteGarbageBound);
        // The photo is handed back once a new canvas holds the background (RestorationEngine.BuildCanvas), so the paste's
        // garbage comes on top of the canvas, not of the photo too; pasting in place the photo is the canvas, and the
        // before/after comparison keeps the photo to the end.
        long photo = original + enlargedCopy;
        bool photoHeldThroughPaste = pastesInPlace || options.IncludeComparison;
        long background = canvas + facesHeld + (photoHeldThroughPaste ? photo + pasteGarbage : Math.Max(photo, pasteGarbage));
        if (options.BackgroundUpsample)
        {
            long upscaled = input * upsamplerScale * upsamplerScale * pixelBytes;
            // RRDBNet's largest tensors are its last 64-channel feature maps at the tile's output size; three of them
            // live at once. Derived from the graph, not measured (no Real-ESRGAN weights could be used here).
            long tileSide = (long)RealEsrganTile * upsamplerScale;
            long tile = 3 * 64 * 4 * tileSide * tileSide;
            background += 2 * input * FloatRgb + (s == upsamplerScale ? 0 : upscaled) + tile;
        }
        if (options.FaceUpsample)
        {
            background += faces * face * s * s;
        }

        // Encode: the canvas and the encoder's buffers. PNG is written band by band; JPEG and WebP pack their 8-bit
        // samples into the canvas's own memory (ImageEncoder.EncodeConsuming). libjpeg-turbo, asked by Skia for optimized
        // Huffman tables, then holds the whole image's DCT coefficients: 2 bytes a sample, 3 a pixel at 4:2:0 (2 for grey, counted as 3).
        // libwebp holds its YUV(A) picture (1.5 bytes a pixel, 2.5 with alpha) and per-macroblock state (not measured).
        // The encoded bytes are held up to three times at once (a doubling stream, then its array): JPEG/WebP at about
        // half a byte a pixel; PNG at zlib level 2 measured 14–21 % of the raw size on the asset photos, so half the raw
        // size is allowed for it.
        var format = options.OutputFormat ?? header.Format;
        bool sixteenBit = format == ImageFileFormat.Png && header.BitDepth == 16;
        long encoded = format == ImageFileFormat.Png ? output * 3 * (sixteenBit ? 2 : 1) : output * 3 / 2;
        // PNG, although written band by band, measured about 2 bytes an output pixel over the canvas (6.2 MP at s = 2).
        long encoderImage = format switch
        {
            ImageFileFormat.Png => output * 2,
            ImageFileFormat.Webp => output * 3,
            _ => output * 3,
        };
        long encode = (pastesInPlace ? original : canvas) + encoderImage + encoded;
        if (options.IncludeComparison)
        {
            encode += ComparisonBytes(work, output);
        }

        long Slacked(long bytes) => bytes + Math.Max(MinimumSlack, (long)(bytes * Slack));
        return new PhotoMemoryEstimate(engine.ResidentBytes, Slacked(decode), Slacked(restore), Slacked(background), Slacked(encode));
    }

    /// <summary>What pasting a face allocates per pixel of its footprint (FacePaster: warped face, square, feather planes).</summary>
    // Warped face 12, warped square 4, eroded 4, eroded centre (blurred in place into the soft mask) 4; the filters'
    // transposed copies are pooled since 2026-12-01 (they were 3 × 4 more, and the blur's copy 4).
    private const long PasteScratchBytesPerOutputPixel = 24;

    /// <summary>The paster collects every 128 MiB of its garbage; one face's scratch can come on top.</summary>
    private const long PasteGarbageBound = 160L << 20;

    /// <summary>Real-ESRGAN's tile with its padding (400 + 2·40).</summary>
    private const int RealEsrganTile = 480;

    /// <summary>The before/after PNG: composed band by band from the photo and the output, so only its encoded bytes.</summary>
    private static long ComparisonBytes(long work, long output) => 2 * 3 * (work + output);
}
