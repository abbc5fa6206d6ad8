using CodeFormer.Engine.Geometry;
using CodeFormer.Engine.Imaging;

namespace CodeFormer.Engine.Compositing;

/// <summary>
/// Reference B.7 (<c>get_inverse_affine</c> + <c>paste_faces_to_input_image</c>): each restored face is warped back
/// into the upscaled canvas and blended through a feathered square mask, one face after the other.
/// All work is confined to the face's footprint on the canvas (its bounding box plus the feather margin):
/// outside it the reference's warped face and masks are exactly zero, so the canvas is left bit-for-bit untouched.
/// Differences from the reference, on purpose: everything stays float (the reference warps a uint8 face and
/// truncates the final image to uint8/uint16 — encoding is the codec's job); the canvas alpha is never touched
/// (the reference re-attaches the background's alpha, which is the same thing).
/// </summary>
public sealed class FacePaster
{
    private static readonly float[] BoxColour = [0, 255, 0];

    private readonly IFaceMaskProvider? _maskProvider;
    // The all-ones face square that is warped into each face's mask: the same for every face of a size, and a face-sized
    // (1 MiB at 512²) array per face was large-object garbage on every video frame. Read-only once made, so shareable.
    private FloatPlane? _ones;

    private FloatPlane OnesFor(int width, int height)
    {
        var ones = Volatile.Read(ref _ones);
        if (ones is null || ones.Width != width || ones.Height != height)
        {
            ones = FloatPlane.Filled(width, height, 1f);
            Volatile.Write(ref _ones, ones);
        }
        return ones;
    }

    public FacePaster(IFaceMaskProvider? maskProvider = null)
    {
        _maskProvider = maskProvider;
    }

    /// <summary>
    /// The face → canvas matrix: face pixel → (face upsampling undone) → photo pixel (inverse of the alignment) →
    /// canvas pixel of the photo upscaled by s. Every resize in the pipeline keeps pixel centres aligned
    /// (cv2.resize INTER_LINEAR, Real-ESRGAN's convolutions), so both scalings are
    /// <see cref="AffineTransform.PixelCentreScale"/>: x ↦ s·x + 0.5·s − 0.5.
    /// Deliberate deviation from the reference: it uses invert(M)·s + 0.5·s ("more precise back alignment") and, for
    /// upsampled faces, no offset at all; both put the pasted face half a canvas pixel (or more) off the background it
    /// is blended into, which shows as a faint double edge at the feather. Measured on the astronaut with an identity
    /// network at s = 2: mean error over the face 2.9 levels with the reference's offset, under 0.1 with this one.
    /// At s = 1 both are exactly invert(M).
    /// </summary>
    public static AffineTransform FaceToCanvas(AffineTransform imageToFace, int upscale, bool faceUpsampled)
    {
        if (upscale < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(upscale), $"Upscale must be at least 1, got {upscale}.");
        }
        var photoToCanvas = AffineTransform.PixelCentreScale(upscale, upscale);
        var faceToCanvas = imageToFace.Invert().Then(photoToCanvas);
        return faceUpsampled
            ? AffineTransform.PixelCentreScale(1.0 / upscale, 1.0 / upscale).Then(faceToCanvas)
            : faceToCanvas;
    }

    /// <summary>Returns a copy of <paramref name="background"/> with the faces pasted; the background is not modified.</summary>
    public RgbImage Paste(RgbImage background, IReadOnlyList<FaceToPaste> faces, PasteOptions options)
    {
        ArgumentNullException.ThrowIfNull(background);
        var canvas = background.Clone();
        PasteInPlace(canvas, faces, options);
        return canvas;
    }

    /// <summary>
    /// Pastes the faces, in order, onto <paramref name="canvas"/> (the input upscaled by options.Upscale).
    /// With DrawBox the green boxes are drawn after all faces, over the blended result, as the reference's code does
    /// (a frame int(1400/√area) face px wide, warped like the face): a box drawn into the face before pasting would
    /// be eaten by the feather, whose erosion removes the outer ~2·w_edge pixels.
    /// </summary>
    public void PasteInPlace(RgbImage canvas, IReadOnlyList<FaceToPaste> faces, PasteOptions options)
    {
        ArgumentNullException.ThrowIfNull(faces);
        ArgumentNullException.ThrowIfNull(options);
        ValidateOptions(options);
        for (int k = 0; k < faces.Count; k++)
        {
            ValidateFace(faces[k], k, options);
        }
        PasteInPlace(canvas, faces.Count, k => faces[k], options);
    }

    /// <summary>
    /// <see cref="PasteInPlace(RgbImage, IReadOnlyList{FaceToPaste}, PasteOptions)"/> with each face asked for just before
    /// it is pasted (<paramref name="faceAt"/> is called once per index, in order 0 … count − 1), so that a caller can
    /// make every face in the same reused image: face k's image is not read after face k + 1 is asked for.
    /// </summary>
    public void PasteInPlace(RgbImage canvas, int count, Func<int, FaceToPaste> faceAt, PasteOptions options)
    {
        ArgumentNullException.ThrowIfNull(canvas);
        ArgumentNullException.ThrowIfNull(faceAt);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ValidateOptions(options);
        var boxes = new List<(PixelRegion Region, float[] Mask)>();
        long garbageSinceCollection = 0;
        for (int k = 0; k < count; k++)
        {
            var face = faceAt(k);
            ValidateFace(face, k, options);
            var box = PasteOne(canvas, face, options, out long scratchBytes);
            if (box is { } b)
            {
                boxes.Add(b);
            }
            // Each face leaves its warped copy and feather planes (~36 bytes a pixel of its footprint, ~25 MiB for a face
            // of a 24 MP photo at s = 2) as large-object garbage, which the GC let grow to ~900 MiB over 29 faces
            // before collecting. Collecting every 128 MiB of it bounds that; photos with small footprints never do.
            garbageSinceCollection += scratchBytes;
            if (garbageSinceCollection >= PasteGarbageLimit)
            {
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
                garbageSinceCollection = 0;
            }
        }
        foreach (var (region, mask) in boxes)
        {
            BlendColour(canvas, region, mask, BoxColour);
        }
    }

    private const long PasteGarbageLimit = 128L << 20;

    /// <summary>Scratch bytes a face's paste allocates per pixel of its region: the warped face (12), the warped square (4), the feather's two planes (8; its transposed copies are pooled).</summary>
    private const int ScratchBytesPerRegionPixel = 24;

    private (PixelRegion, float[])? PasteOne(RgbImage canvas, FaceToPaste face, PasteOptions options, out long scratchBytes)
    {
        scratchBytes = 0;
        var restored = face.RestoredFace;
        var faceToCanvas = FaceToCanvas(face.ImageToFace, options.Upscale, options.FaceUpsampled);
        var footprint = AffineWarper.FootprintOf(restored.Width, restored.Height, faceToCanvas);
        // The feather erodes by up to w_edge and blurs by w_edge; w_edge is bounded by the footprint's size, so this
        // margin keeps both filters' reach (and OpenCV's reflect border) inside zeros we actually compute.
        int maxEdge = (int)Math.Ceiling(Math.Sqrt((double)footprint.Width * footprint.Height) / 20);
        var region = footprint.Inflate(maxEdge + FeatherMask.BorderErosionSide(options.Upscale) + 2).ClipTo(canvas.Width, canvas.Height);
        if (region.IsEmpty)
        {
            return null; // Entirely off the canvas: the reference's masks would be all zero.
        }

        scratchBytes = (long)region.Width * region.Height * ScratchBytesPerRegionPixel;
        var warpedFace = new float[region.Width * region.Height * 3];
        AffineWarper.WarpInto(restored.Pixels, restored.Width, restored.Height, 3, faceToCanvas, region, warpedFace, WarpBorder.Zero);
        var warpedSquare = new FloatPlane(region.Width, region.Height);
        var ones = OnesFor(restored.Width, restored.Height);
        AffineWarper.WarpInto(ones.Values, ones.Width, ones.Height, 1, faceToCanvas, region, warpedSquare.Values, WarpBorder.Zero);

        var feather = FeatherMask.Build(warpedSquare, options.Upscale);
        var soft = feather.Soft.Values;
        var parse = _maskProvider?.MaskFor(restored);
        if (parse is not null)
        {
            ValidateParseMask(parse, restored);
            // The reference warps it with flags=3 (INTER_AREA), which warpAffine treats as INTER_LINEAR.
            var warpedParse = new float[region.Width * region.Height];
            AffineWarper.WarpInto(parse.Values, parse.Width, parse.Height, 1, faceToCanvas, region, warpedParse, WarpBorder.Zero);
            for (int i = 0; i < soft.Length; i++)
            {
                soft[i] = Math.Min(soft[i], warpedParse[i]);
            }
        }

        BlendFace(canvas, region, soft, feather.Eroded.Values, warpedFace);

        if (!options.DrawBox || feather.Area <= 0)
        {
            return null;
        }
        var border = BoxBorder(restored.Width, restored.Height, feather.Area);
        var warpedBorder = new float[region.Width * region.Height];
        AffineWarper.WarpInto(border.Values, border.Width, border.Height, 1, faceToCanvas, region, warpedBorder, WarpBorder.Zero);
        return (region, warpedBorder);
    }

    /// <summary>
    /// The draw_box frame in face space: 1 on a border int(1400/√area) px thick, 0 inside (numpy slicing semantics:
    /// a border of 0 clears everything, a border reaching the middle clears nothing).
    /// </summary>
    internal static FloatPlane BoxBorder(int width, int height, double area)
    {
        int thickness = (int)(1400 / Math.Sqrt(area));
        var plane = FloatPlane.Filled(width, height, 1f);
        for (int y = thickness; y < height - thickness; y++)
        {
            plane.Values.AsSpan(y * width + thickness, Math.Max(0, width - 2 * thickness)).Clear();
        }
        return plane;
    }

    /// <summary>
    /// canvas = soft·(eroded·face) + (1 − soft)·canvas over the region, the reference's blend with its
    /// pasted_face = eroded mask × warped face; pixels with soft = 0 stay exactly as they were.
    /// </summary>
    private static void BlendFace(RgbImage canvas, PixelRegion region, float[] soft, float[] eroded, float[] face)
    {
        var pixels = canvas.Pixels;
        int canvasWidth = canvas.Width;
        PlaneTranspose.ForRows(region.Height, (long)region.Width * region.Height * 3, row =>
        {
            int regionRow = row * region.Width;
            int canvasRow = ((region.Y + row) * canvasWidth + region.X) * 3;
            for (int x = 0; x < region.Width; x++)
            {
                int i = regionRow + x;
                float m = soft[i];
                if (m == 0)
                {
                    continue;
                }
                float e = eroded[i], keep = 1 - m;
                int p = canvasRow + x * 3, f = i * 3;
                pixels[p] = m * (e * face[f]) + keep * pixels[p];
                pixels[p + 1] = m * (e * face[f + 1]) + keep * pixels[p + 1];
                pixels[p + 2] = m * (e * face[f + 2]) + keep * pixels[p + 2];
            }
        });
    }

    /// <summary>canvas = mask·colour + (1 − mask)·canvas over the region (the draw_box frame).</summary>
    private static void BlendColour(RgbImage canvas, PixelRegion region, float[] mask, float[] colour)
    {
        var pixels = canvas.Pixels;
        int canvasWidth = canvas.Width;
        Parallel.For(0, region.Height, row =>
        {
            int regionRow = row * region.Width;
            int canvasRow = ((region.Y + row) * canvasWidth + region.X) * 3;
            for (int x = 0; x < region.Width; x++)
            {
                float m = mask[regionRow + x];
                if (m == 0)
                {
                    continue;
                }
                int p = canvasRow + x * 3;
                for (int c = 0; c < 3; c++)
                {
                    pixels[p + c] = m * colour[c] + (1 - m) * pixels[p + c];
                }
            }
        });
    }

    private static void ValidateOptions(PasteOptions options)
    {
        if (options.Upscale < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"Upscale must be at least 1, got {options.Upscale}.");
        }
        if (options.FaceSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"Face size must be positive, got {options.FaceSize}.");
        }
    }

    private static void ValidateFace(FaceToPaste? face, int k, PasteOptions options)
    {
        if (face is null)
        {
            throw new ArgumentException($"Face {k} is null.", "faces");
        }
        int expected = options.FaceUpsampled ? options.FaceSize * options.Upscale : options.FaceSize;
        if (face.RestoredFace.Width != expected || face.RestoredFace.Height != expected)
        {
            throw new ArgumentException(
                $"Restored face {k} is {face.RestoredFace.Width}×{face.RestoredFace.Height}, expected {expected}×{expected} " +
                $"(face size {options.FaceSize}{(options.FaceUpsampled ? $" × upscale {options.Upscale}, face-upsampled" : "")}).",
                "faces");
        }
        if (!(Math.Abs(face.ImageToFace.Determinant) > 1e-12))
        {
            throw new ArgumentException($"Face {k}'s alignment matrix {face.ImageToFace} is singular.", "faces");
        }
    }

    private static void ValidateParseMask(FloatPlane mask, RgbImage restored)
    {
        if (mask.Width != restored.Width || mask.Height != restored.Height)
        {
            throw new InvalidOperationException(
                $"The face mask provider returned a {mask.Width}×{mask.Height} mask for a {restored.Width}×{restored.Height} face.");
        }
        foreach (float v in mask.Values)
        {
            if (!(v >= 0 && v <= 1))
            {
                throw new InvalidOperationException($"The face mask provider returned a value {v} outside [0, 1].");
            }
        }
    }
}
