using CodeFormer.Engine.Detection;
using CodeFormer.Engine.Geometry;
using CodeFormer.Engine.Imaging;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Engine.Restoration;

namespace CodeFormer.Engine.Tasks;

/// <summary>The result of one colorization or inpainting run.</summary>
/// <param name="Image">The encoded output face (512 × 512).</param>
/// <param name="AlignedFrom">When the input was aligned first: the detected face it was aligned from, in photo pixels.</param>
/// <param name="MaskedPixels">Inpainting: how many pixels were filled (0 for colorization).</param>
public sealed record FaceTaskResult(byte[] Image, ImageFileFormat Format, int Width, int Height, FaceTask Task,
    DetectedFace? AlignedFrom, int MaskedPixels, IReadOnlyList<string> Warnings);

/// <summary>Refusal of an input a face task cannot take, with what to do instead.</summary>
public sealed class FaceTaskInputException(string message) : ArgumentException(message);

/// <summary>
/// Colorization and inpainting of aligned faces, as the reference scripts do them (doc B.11): an aligned 512 × 512
/// face through the task's own network, at the task's fixed w and AdaIN setting (baked into its graph), and back.
/// Built on the engine's public parts (decoder, detector, aligner, restorer) so the whole-photo pipeline is untouched.
/// One image at a time per engine.
/// </summary>
public sealed class FaceTaskEngine : IDisposable
{
    /// <summary>The reference scripts assert this input size.</summary>
    public const int AlignedSize = FfhqTemplate.ReferenceSize;

    private readonly IFaceRestorer _restorer;
    private readonly IFaceDetector? _detector;
    private readonly EngineSettings _settings;
    private readonly IReadOnlyList<IDisposable> _ownedResources;
    private readonly ImageDecoder _decoder = new();
    private readonly ImageEncoder _encoder = new();
    private readonly FaceAligner _aligner = new();
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    /// <param name="task">Colorize or Inpaint: the task the restorer's model was made for.</param>
    /// <param name="detector">Needed only for <see cref="FaceTaskOptions.AlignFirst"/>.</param>
    public FaceTaskEngine(FaceTask task, IFaceRestorer restorer, IFaceDetector? detector, EngineSettings settings, IReadOnlyList<IDisposable>? ownedResources = null)
    {
        ArgumentNullException.ThrowIfNull(restorer);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        Profile = task == FaceTask.Restore
            ? throw new ArgumentException("Restoration runs through RestorationEngine; a face-task engine colorizes or inpaints.", nameof(task))
            : FaceTaskProfile.For(task);
        _restorer = restorer;
        _detector = detector;
        _settings = settings;
        _ownedResources = ownedResources ?? [];
    }

    public FaceTaskProfile Profile { get; }

    public FaceTask Task => Profile.Task;

    public Task<FaceTaskResult> RunAsync(ReadOnlyMemory<byte> photo, FaceTaskOptions options, CancellationToken cancellationToken = default)
        => System.Threading.Tasks.Task.Run(() => Run(photo.Span, options, cancellationToken), cancellationToken);

    public FaceTaskResult Run(ReadOnlySpan<byte> photo, FaceTaskOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.Task != Task)
        {
            throw new ArgumentException($"This engine's model is for {Task.ToString().ToLowerInvariant()}, but {options.Task.ToString().ToLowerInvariant()} was asked for.", nameof(options));
        }
        if (options.AlignFirst && _detector is null)
        {
            throw new InvalidOperationException("Aligning first needs a face detector, and this engine was created without one.");
        }
        byte[] bytes = photo.ToArray();
        _oneAtATime.Wait(cancellationToken);
        try
        {
            return Execute(bytes, options, cancellationToken);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    private FaceTaskResult Execute(byte[] bytes, FaceTaskOptions options, CancellationToken cancellationToken)
    {
        var decoded = _decoder.Decode(bytes, _settings.Limits, cancellationToken);
        var format = options.OutputFormat ?? OutputFormat.FromSource(decoded.Format);
        var warnings = new List<string>();
        var (face, alignedFrom) = AlignedFace(decoded.Image, options.AlignFirst, cancellationToken);
        if (decoded.HasAlpha)
        {
            warnings.Add("the input's alpha channel was dropped: the network works on RGB faces");
        }

        RgbImage output;
        int masked = 0;
        if (Task == FaceTask.Colorize)
        {
            if (!decoded.IsGreyscale)
            {
                warnings.Add("the input already has colour; colorization replaces it with the network's");
            }
            output = RunNetwork(face, cancellationToken);
        }
        else
        {
            var mask = options.Mask is { } maskBytes
                ? InpaintingMask.FromMaskImage(_decoder.Decode(maskBytes.ToArray(), _settings.Limits, cancellationToken).Image, face.Width, face.Height)
                : InpaintingMask.FromWhitePixels(face);
            masked = InpaintingMask.Count(mask);
            if (masked == 0)
            {
                warnings.Add(options.Mask is null
                    ? "no pure-white pixel was found, so nothing was filled (paint the holes pure white, or pass a mask)"
                    : "the mask has no white pixel, so nothing was filled");
            }
            var network = RunNetwork(InpaintingMask.PaintHolesWhite(face, mask), cancellationToken);
            output = InpaintingMask.Composite(face, network, mask);
        }

        // Never written as greyscale: colorization exists to add colour, and an inpainted fill may carry some.
        var encoded = _encoder.Encode(output, format, options.JpegQuality);
        return new FaceTaskResult(encoded, format, output.Width, output.Height, Task, alignedFrom, masked, warnings);
    }

    /// <summary>The 512 × 512 aligned face: the input itself, or the largest detected face aligned to the FFHQ template.</summary>
    private (RgbImage Face, DetectedFace? From) AlignedFace(RgbImage image, bool alignFirst, CancellationToken cancellationToken)
    {
        if (!alignFirst)
        {
            if (image.Width != AlignedSize || image.Height != AlignedSize)
            {
                throw new FaceTaskInputException(
                    $"{Verb} takes an aligned {AlignedSize} × {AlignedSize} face (as the reference script), but this image is {image.Width} × {image.Height}. " +
                    "Use --align (FaceTaskOptions.AlignFirst) to detect and align its largest face first.");
            }
            return (WithoutAlpha(image), null);
        }
        var faces = _detector!.Detect(image, cancellationToken);
        if (faces.Count == 0)
        {
            throw new FaceTaskInputException($"No face was found to align for {Verb.ToLowerInvariant()}.");
        }
        var largest = faces.MaxBy(f => f.Width * f.Height)!;
        return (_aligner.Align(WithoutAlpha(image), largest.Landmarks, AlignedSize).Crop, largest);
    }

    /// <summary>One face through the task's network at the task's w; a model of another face size is resized to and from it.</summary>
    private RgbImage RunNetwork(RgbImage face, CancellationToken cancellationToken)
    {
        int size = _restorer.FaceSize;
        var crop = _aligner.FromAlignedInput(face, size).Crop;
        int plane = 3 * size * size;
        var input = new float[plane];
        var output = new float[plane];
        FaceTensorLayout.Pack([crop], input);
        _restorer.Restore(input, 1, Profile.Fidelity, output, cancellationToken);
        var result = FaceTensorLayout.Unpack(output, 0, size);
        return size == face.Width && size == face.Height ? result : ImageResizer.ResizeBilinear(result, face.Width, face.Height);
    }

    private static RgbImage WithoutAlpha(RgbImage image) => image.Alpha is null ? image : new RgbImage(image.Width, image.Height, image.Pixels);

    private string Verb => Task == FaceTask.Colorize ? "Colorization" : "Inpainting";

    public void Dispose()
    {
        _restorer.Dispose();
        _detector?.Dispose();
        foreach (var resource in _ownedResources)
        {
            resource.Dispose();
        }
        _oneAtATime.Dispose();
    }
}
