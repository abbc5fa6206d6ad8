using System.Runtime.CompilerServices;
using CodeFormer.Engine.Compositing;
using CodeFormer.Engine.Detection;
using CodeFormer.Engine.Geometry;
using CodeFormer.Engine.Imaging;
using CodeFormer.Engine.Restoration;
using CodeFormer.Engine.Runtime;
using CodeFormer.Engine.Upsampling;
using Microsoft.Extensions.Logging;

namespace CodeFormer.Engine.Pipeline;

/// <summary>
/// The whole-photo pipeline, bytes in to bytes out: decode → (enlarge small photos) → detect → align to
/// FFHQ-512 → restore the faces → upscale the background → paste back → encode.
/// <para>
/// One engine per process serves every photo in flight: each call keeps its own state (a <c>PhotoRun</c>), the CPU
/// stages run on the thread pool, and the faces of all photos meet in one <see cref="FaceBatcher"/>, which runs them
/// through the network in shared batches up to the batch size. Call <see cref="RestoreAsync"/> concurrently; results
/// are the same bytes as one photo at a time. The engine owns the models handed to it.
/// </para>
/// Failures: <see cref="PhotoRefusedException"/> (the photo or request), <see cref="ModelFaultException"/> (the
/// engine, model or runtime), <see cref="OperationCanceledException"/> (the caller's token).
/// </summary>
public sealed class RestorationEngine : IDisposable
{
    /// <summary>Short side below which the reference enlarges the photo first (doc B.2).</summary>
    public const int MinimumShortSide = 512;

    private readonly IFaceRestorer _restorer;
    private readonly IFaceDetector? _detector;
    private readonly RealEsrganUpsampler? _upsampler;
    private readonly EngineSettings _settings;
    private readonly ImageDecoder _decoder = new();
    private readonly ImageEncoder _encoder = new();
    private readonly FaceAligner _aligner = new();
    private readonly FacePaster _paster;
    private readonly FaceBatcher _batcher;
    private readonly FaceTensorPool _faceTensors;
    private readonly IReadOnlyList<IDisposable> _ownedResources;

    /// <param name="maskProvider">Optional face-parsing mask combined with the square feather mask (reference ParseNet); none ships.</param>
    /// <param name="ownedResources">Disposed with the engine after the models (e.g. the SessionOptions the sessions were made with).</param>
    public RestorationEngine(IFaceRestorer restorer, IFaceDetector? detector, RealEsrganUpsampler? upsampler, EngineSettings settings,
        IFaceMaskProvider? maskProvider = null, IReadOnlyList<IDisposable>? ownedResources = null, ILogger? logger = null)
    {
        settings.Validate();
        _restorer = restorer;
        _detector = detector;
        _upsampler = upsampler;
        _settings = settings;
        _paster = new FacePaster(maskProvider);
        _ownedResources = ownedResources ?? [];
        // The factory fixes the batch size for its device; an engine built by hand without one batches as on CPU.
        _batcher = new FaceBatcher(restorer, settings.BatchSize ?? EngineSettings.CpuBatchSize, logger);
        // Enough for a photo's faces in flight (two batches' worth wait per photo) and a many-face photo's restored faces
        // until they are pasted; at batch 8, 32 faces (96 MiB at 512²) kept between photos.
        _faceTensors = new FaceTensorPool(_batcher.FaceLength, Math.Max(MinimumPooledFaces, 4 * _batcher.MaxBatch));
    }

    /// <summary>Side of the aligned faces the restoration model works on.</summary>
    public int FaceSize => _restorer.FaceSize;

    /// <summary>Most faces per network call (the batcher's batch size).</summary>
    public int BatchSize => _batcher.MaxBatch;

    /// <summary>
    /// What the process held once this engine was ready — runtime and loaded models (the factory reads the resident set);
    /// the base every photo's memory estimate adds to. Zero for engines built by hand unless the host sets it.
    /// </summary>
    public long BaselineResidentBytes { get; init; }

    /// <summary>
    /// Whether the network's activations live in this process's native heap (a CPU network), so that after each photo's
    /// faces the freed heap is handed back to the system before the canvas is made. True unless the host says the
    /// network runs on a device: there the trim frees nothing of the network's, and it costs CPU time per photo that the
    /// device's feeders need (malloc_trim walks every heap arena).
    /// </summary>
    public bool NetworkUsesHostHeap { get; init; } = true;

    /// <summary>The network's working memory per face in a batch; CodeFormer's measured figure unless a host knows better.</summary>
    public long NetworkBytesPerFace { get; init; } = EngineMemoryProfile.CodeFormerBytesPerFace;

    public EngineMemoryProfile MemoryProfile => new(BaselineResidentBytes, FaceSize, _settings.BatchSize ?? EngineSettings.CpuBatchSize, NetworkBytesPerFace);

    /// <summary>
    /// The photo's estimated peak memory with these options, from its header alone (nothing is decoded); the faces are
    /// bounded by <see cref="RestorationOptions.MaxFaces"/> or <see cref="PhotoMemoryEstimator.AssumedFaces"/>.
    /// Throws <see cref="ImageRejectedException"/> for a header the decoder would refuse.
    /// </summary>
    public PhotoMemoryEstimate EstimateMemory(ReadOnlySpan<byte> photo, RestorationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var header = _decoder.Inspect(photo.ToArray(), _settings.Limits);
        return EstimateMemory(header, photo.Length, options, FaceBound(options));
    }

    private PhotoMemoryEstimate EstimateMemory(ImageHeader header, long fileBytes, RestorationOptions options, int faces) =>
        PhotoMemoryEstimator.Estimate(header, fileBytes, options, MemoryProfile, faces, _upsampler?.Scale ?? 2);

    private static int FaceBound(RestorationOptions options) =>
        options.InputIsAligned ? 1 : Math.Min(options.MaxFaces ?? PhotoMemoryEstimator.AssumedFaces, options.OnlyCenterFace ? 1 : int.MaxValue);

    /// <summary>Refuses, naming the numbers, a photo whose estimate exceeds the budget.</summary>
    private void EnforceBudget(ImageHeader header, long fileBytes, RestorationOptions options, int faces, string when)
    {
        var estimate = EstimateMemory(header, fileBytes, options, faces);
        long budget = _settings.MemoryBudgetBytes;
        if (estimate.TotalBytes <= budget)
        {
            return;
        }
        string hint = options.Upscale > 1 && EstimateMemory(header, fileBytes, options with { Upscale = 1 }, faces).TotalBytes <= budget
            ? " It fits at s = 1."
            : " A smaller photo would fit.";
        throw new ImageRejectedException(ImageRejectionRule.MemoryBudget,
            $"Image rejected (MemoryBudget): restoring this {header.Width}×{header.Height} photo at s = {options.Upscale} with {faces} face(s) " +
            $"{when} would need about {PhotoMemoryEstimate.Mib(estimate.TotalBytes)} MiB (models {PhotoMemoryEstimate.Mib(estimate.EngineBytes)} MiB, " +
            $"{estimate.LargestStage} {PhotoMemoryEstimate.Mib(estimate.PhotoBytes)} MiB), over the memory budget of {PhotoMemoryEstimate.Mib(budget)} MiB.{hint}");
    }


    private const int MinimumPooledFaces = 8;

    /// <summary>What the face batcher has done so far: batches, faces, network busy time, faces waiting now.</summary>
    public FaceBatcherStatistics Batching => _batcher.Statistics;

    /// <summary>
    /// Restores one photo. Safe to call concurrently: photos in flight share network batches. Throws
    /// <see cref="PhotoRefusedException"/>, <see cref="ModelFaultException"/> or <see cref="OperationCanceledException"/>.
    /// </summary>
    public async Task<RestorationResult> RestoreAsync(ReadOnlyMemory<byte> photo, RestorationOptions options, IProgress<RestorationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        Refuse(options);
        cancellationToken.ThrowIfCancellationRequested();
        byte[] bytes = photo.ToArray();
        try
        {
            // Off the caller's thread at once: decoding and detection take hundreds of milliseconds of CPU.
            return await Task.Run(() => new PhotoRun(this, options, progress, cancellationToken).ExecuteAsync(bytes), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or RestorationException or ObjectDisposedException))
        {
            throw ex is ImageRejectedException rejected
                ? new PhotoRefusedException(rejected.Message, rejected.Rule, rejected)
                : new ModelFaultException($"Restoring the photo failed: {ex.Message}", ex);
        }
    }

    /// <summary>Blocking form of <see cref="RestoreAsync"/> for scripts, benchmarks and tests.</summary>
    public RestorationResult Restore(ReadOnlySpan<byte> photo, RestorationOptions options, IProgress<RestorationProgress>? progress = null, CancellationToken cancellationToken = default)
        => RestoreAsync(photo.ToArray(), options, progress, cancellationToken).GetAwaiter().GetResult();

    /// <summary>A request this engine cannot serve is refused before any work, naming the problem.</summary>
    private void Refuse(RestorationOptions options)
    {
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new PhotoRefusedException(ex.Message, innerException: ex);
        }
        if (options.Task != Tasks.FaceTask.Restore)
        {
            throw new PhotoRefusedException($"This engine restores photos; {options.Task.ToString().ToLowerInvariant()} runs through FaceTaskEngine (FaceTaskEngineFactory) with its own model.");
        }
        if (!options.InputIsAligned && _detector is null)
        {
            throw new PhotoRefusedException("This engine was created without a face detector; only aligned inputs can be restored.");
        }
        if ((options.BackgroundUpsample || options.FaceUpsample) && _upsampler is null)
        {
            throw new PhotoRefusedException("Background or face upsampling was asked for, but this engine has no Real-ESRGAN model.");
        }
    }

    public void Dispose()
    {
        // The batcher first: it finishes the batch on the device and fails the faces still waiting.
        _batcher.Dispose();
        _restorer.Dispose();
        _detector?.Dispose();
        _upsampler?.Dispose();
        foreach (var resource in _ownedResources)
        {
            resource.Dispose();
        }
    }

    /// <summary>The state of one photo's trip through the pipeline.</summary>
    private sealed class PhotoRun(RestorationEngine engine, RestorationOptions options, IProgress<RestorationProgress>? progress, CancellationToken cancellationToken)
    {
        private readonly StageTimings _timings = new();
        private readonly int _faceSize = engine._restorer.FaceSize;

        public async Task<RestorationResult> ExecuteAsync(byte[] bytes)
        {
            Report(RestorationStage.Decode, 0, "decoding");
            // The memory budget is checked on the header, before a pixel is decoded.
            var header = _timings.Measure(RestorationStage.Decode, () => engine._decoder.Inspect(bytes, engine._settings.Limits, cancellationToken));
            _fileBytes = bytes.Length;
            engine.EnforceBudget(header, _fileBytes, options, FaceBound(options), "(faces bounded before detection)");
            var decoded = _timings.Measure(RestorationStage.Decode, () => engine._decoder.Decode(bytes, engine._settings.Limits, cancellationToken));
            bytes = null!;
            var format = options.OutputFormat ?? OutputFormat.FromSource(decoded.Format);
            bool greyscale = decoded.LooksGreyscale;
            return options.InputIsAligned
                ? await RestoreAlignedAsync(decoded, format, greyscale).ConfigureAwait(false)
                : await RestoreWholePhotoAsync(decoded.Image, decoded.Header, format, greyscale).ConfigureAwait(false);
        }

        /// <summary>The photo and its working copy between the network's wait and the canvas (see RestoreWholePhotoAsync).</summary>
        private RgbImage? _photo;
        private RgbImage? _workPhoto;

        /// <summary>
        /// Face reports in photo pixels, then the canvas with the background at its final size. Its own frame, never
        /// inlined: once it returns, nothing of the paste's or the encode's callers refers to the photo.
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private (RgbImage Canvas, List<FaceReport> Reports, RgbImage? ComparisonBefore) BuildCanvas(IReadOnlyList<DetectedFace> faces, List<FaceInFlight> aligned)
        {
            var original = _photo ?? throw new InvalidOperationException("The photo was already turned into a canvas.");
            var work = _workPhoto!;
            _photo = null;
            _workPhoto = null;
            var reports = faces.Select((f, i) => ReportInPhotoPixels(i, f, aligned[i].ImageToFace, original, work)).ToList();
            var comparisonBefore = options.IncludeComparison ? work : null;

            Report(RestorationStage.Background, 0.8, "upscaling the background");
            int canvasWidth = work.Width * options.Upscale, canvasHeight = work.Height * options.Upscale;
            if (options.Upscale > 1 || options.IncludeComparison || options.BackgroundUpsample)
            {
                // A new canvas is about to be allocated: the decoder's, detector's and network's dead buffers go first.
                ReleaseDeadPhotoMemory(3L * canvasWidth * canvasHeight, handBackToSystem: false);
            }
            var canvas = _timings.Measure(RestorationStage.Background, () => UpscaleBackground(original, work, canvasWidth, canvasHeight));
            return (canvas, reports, comparisonBefore);
        }

        private long _fileBytes;

        private async Task<RestorationResult> RestoreAlignedAsync(DecodedImage decoded, ImageFileFormat format, bool greyscale)
        {
            var aligned = _timings.Measure(RestorationStage.Align, () => engine._aligner.FromAlignedInput(decoded.Image, _faceSize));
            var face = engine._faceTensors.Rent();
            FaceTensorLayout.Pack([aligned.Crop], face);
            await RestoreFacesAsync([face]).ConfigureAwait(false);
            var restored = FaceTensorLayout.Unpack(face, 0, _faceSize);
            engine._faceTensors.Return(face);
            var output = _timings.Measure(RestorationStage.Paste, () => GreyscaleFaces.PrepareRestoredFace(restored, greyscale, aligned.Crop));
            var faceImages = options.IncludeFaceImages
                ? new[] { new FaceImages(0, engine._encoder.Encode(aligned.Crop, ImageFileFormat.Png), engine._encoder.Encode(output, ImageFileFormat.Png)) }
                : [];
            return Finish(output, decoded.Header, format, greyscale, [], faceImages, comparisonBefore: aligned.Crop);
        }

        // Takes the image and header apart rather than the DecodedImage, so that nothing holds the decoded photo once the
        // canvas is made: at s > 1 its 12 bytes a pixel are free for the encode.
        private async Task<RestorationResult> RestoreWholePhotoAsync(RgbImage decodedPhoto, ImageHeader header, ImageFileFormat format, bool greyscale)
        {
            // The float photo (12 bytes a pixel: 275 MiB at 24 MP) must die once the canvas is made, and three things kept
            // it alive through the paste and the encode (a weak reference said so; the encode began 456 MiB above the
            // canvas at 24 MP, s = 2): the state machine's own field for this parameter (lambdas capture a copy, so
            // clearing the parameter later cleared only the copy), the lambdas' closure, and this method's frame after the
            // await. So the parameter is cleared at once, the closure's references before the await, and the photo is
            // used after the await only inside BuildCanvas, whose frame is gone before the paste.
            var original = decodedPhoto;
            decodedPhoto = null!;
            var work = _timings.Measure(RestorationStage.Decode, () => EnlargeSmallPhoto(original));

            Report(RestorationStage.Detect, 0.05, "detecting faces");
            var faces = _timings.Measure(RestorationStage.Detect, () => FaceFilter.Apply(
                engine._detector!.Detect(work, cancellationToken),
                new FaceDetectionOptions
                {
                    OnlyCenterFace = options.OnlyCenterFace,
                    MaxFaces = options.MaxFaces,
                    // The user's minimum is in photo pixels; detection ran on the (maybe enlarged) working copy.
                    MinFaceSize = options.MinFaceSize * work.Width / original.Width,
                },
                work.Width,
                work.Height));

            if (faces.Count > FaceBound(options))
            {
                engine.EnforceBudget(header, _fileBytes, options, faces.Count, "(as many as were found)");
            }

            Report(RestorationStage.Align, 0.15, $"aligning {faces.Count} face(s)");
            // Each face is warped straight into its slot of the network's layout (a pooled array that also takes the
            // network's output back). A greyscale photo's faces need only the crop's colour statistics: its faces are
            // aligned into one pooled scratch crop, measured, and packed (the same values as aligning into the layout).
            // Only face images keep a crop of their own.
            var aligned = _timings.Measure(RestorationStage.Align, () =>
            {
                var scratch = greyscale ? new RgbImage(_faceSize, _faceSize, engine._faceTensors.Rent()) : null;
                var inFlight = faces.Select(f =>
                {
                    var tensor = engine._faceTensors.Rent();
                    if (scratch is null)
                    {
                        var imageToFace = engine._aligner.AlignToNetworkLayout(work, f.Landmarks, _faceSize, tensor);
                        return new FaceInFlight(tensor, imageToFace, null, options.IncludeFaceImages ? engine._aligner.Align(work, f.Landmarks, _faceSize).Crop : null);
                    }
                    var face = engine._aligner.AlignInto(work, f.Landmarks, scratch);
                    FaceTensorLayout.Pack([scratch], tensor);
                    return new FaceInFlight(tensor, face.ImageToFace, GreyscaleFaces.StatisticsOf(scratch), options.IncludeFaceImages ? scratch.Clone() : null);
                }).ToList();
                if (scratch is not null)
                {
                    engine._faceTensors.Return(scratch.Pixels);
                }
                return inFlight;
            });

            // The network's activations come from the native heap on top of everything held now. What decoding and
            // detection left behind (the decoder's buffers, the detector's copies) is dead: hand it back first, or the
            // process peak counts it under the network's working memory. Measured at 24 MP, s = 1: the peak fell from
            // 1,996 to 1,590 MiB. Only from 16 MP up: at 6.2 MP it saved ~20 MiB, not worth an aggressive (compacting)
            // collection per photo.
            if (engine.NetworkUsesHostHeap && (long)original.Width * original.Height >= PreNetworkReleasePixels)
            {
                ReleaseDeadPhotoMemory(original.Pixels.LongLength, handBackToSystem: true);
                NativeHeap.Trim();
            }

            _photo = original;
            _workPhoto = work;
            original = null!;
            work = null!;

            // The only wait of the photo: its faces join the batcher's queue, and this continues on the thread pool
            // when the last one is back. Everything after it runs while the network serves other photos.
            await RestoreFacesAsync(aligned.Select(a => a.Tensor).ToList()).ConfigureAwait(false);
            // The network's activations were freed; hand them back to the system before the canvas is made.
            if (engine.NetworkUsesHostHeap)
            {
                NativeHeap.Trim();
            }

            var (canvas, reports, comparisonBefore) = BuildCanvas(faces, aligned);
            if (options.Upscale > 1 || options.BackgroundUpsample)
            {
                // The photo is dead now (the canvas is a new image): hand it back before the paste's scratch comes on top.
                ReleaseDeadPhotoMemory(canvas.Pixels.LongLength, handBackToSystem: true);
            }

            Report(RestorationStage.Paste, 0.9, "pasting faces back");
            // Each restored face is unpacked into one face image, pasted and its array handed back, in order: a face is
            // touched once on its way out, and no face-sized image is made per face.
            var faceImages = new List<FaceImages>();
            var restoredFace = new RgbImage(_faceSize, _faceSize, engine._faceTensors.Rent());
            _timings.Measure(RestorationStage.Paste, () => engine._paster.PasteInPlace(canvas, aligned.Count, i =>
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (i > 0)
                {
                    engine._faceTensors.Return(aligned[i - 1].Tensor);
                }
                FaceTensorLayout.UnpackInto(aligned[i].Tensor, 0, restoredFace);
                GreyscaleFaces.PrepareRestoredFaceInPlace(restoredFace, greyscale, aligned[i].CropColours);
                var prepared = restoredFace;
                if (options.FaceUpsample)
                {
                    prepared = engine._upsampler!.Upscale(prepared, options.Upscale, cancellationToken);
                }
                if (options.IncludeFaceImages)
                {
                    faceImages.Add(new FaceImages(i, engine._encoder.Encode(aligned[i].Crop!, ImageFileFormat.Png), engine._encoder.Encode(prepared, ImageFileFormat.Png)));
                }
                return new FaceToPaste(prepared, aligned[i].ImageToFace);
            }, new PasteOptions
            {
                Upscale = options.Upscale,
                FaceUpsampled = options.FaceUpsample,
                DrawBox = options.DrawBox,
                FaceSize = _faceSize,
            }));
            if (aligned.Count > 0)
            {
                engine._faceTensors.Return(aligned[^1].Tensor);
            }
            engine._faceTensors.Return(restoredFace.Pixels);
            aligned = null!;
            // Aggressive: the freed memory goes back to the system, where libjpeg-turbo's whole-image coefficient
            // buffer (3 bytes a pixel: Skia asks for optimized Huffman tables) is allocated.
            ReleaseDeadPhotoMemory(canvas.Pixels.LongLength, handBackToSystem: true);
            return Finish(canvas, header, format, greyscale, reports, faceImages, comparisonBefore);
        }

        /// <summary>
        /// Collects before the canvas is made and again before the encode when the photo is large: what earlier stages
        /// left (the decoder's and detector's buffers, the face crops, the decoded photo) is dead by then, but the GC would
        /// otherwise keep it (hundreds of MB at 24 MP) while the next stage allocates, and the process peak is what a
        /// machine's memory limit sees. Small photos skip it (a collection costs ms).
        /// </summary>
        private static void ReleaseDeadPhotoMemory(long canvasValues, bool handBackToSystem)
        {
            if (canvasValues * sizeof(float) < LargeCanvasBytes)
            {
                return;
            }
            // A plain collection leaves the freed regions committed for the GC's own reuse (enough before the managed
            // canvas); only an aggressive one decommits them for native allocations.
            if (handBackToSystem)
            {
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            }
            else
            {
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
            }
        }

        private const long LargeCanvasBytes = 64L << 20;

        private const long PreNetworkReleasePixels = 16_000_000;

        /// <summary>
        /// Reference doc B.2: a photo whose short side is under 512 is first enlarged (bilinear) to a 512 short side.
        /// Sizes are rounded as cv2.resize rounds fx·w (cvRound): truncating would make e.g. 512/98·98 = 511.99… a 511 side.
        /// </summary>
        private static RgbImage EnlargeSmallPhoto(RgbImage image)
        {
            int shortSide = Math.Min(image.Width, image.Height);
            if (shortSide >= MinimumShortSide)
            {
                return image;
            }
            double f = (double)MinimumShortSide / shortSide;
            return ImageResizer.ResizeBilinear(image, (int)Math.Round(image.Width * f), (int)Math.Round(image.Height * f));
        }

        /// <summary>
        /// Detection and alignment ran on the working copy (a small photo enlarged to a 512 short side); the report speaks
        /// in the input photo's pixels. Box and landmarks go back through that resize's pixel-centre mapping
        /// (INTER_LINEAR: work = (photo + 0.5)·f − 0.5, per axis), and the affine is composed with it, so it still maps
        /// the reported landmarks exactly where the working-copy matrix mapped the detected ones.
        /// </summary>
        private static FaceReport ReportInPhotoPixels(int index, DetectedFace face, AffineTransform workToFace, RgbImage original, RgbImage work)
        {
            if (work.Width == original.Width && work.Height == original.Height)
            {
                return FaceReport.From(index, face, workToFace);
            }
            double fx = (double)work.Width / original.Width, fy = (double)work.Height / original.Height;
            float X(float workX) => (float)((workX + 0.5) / fx - 0.5);
            float Y(float workY) => (float)((workY + 0.5) / fy - 0.5);
            var inPhoto = new DetectedFace(X(face.X1), Y(face.Y1), X(face.X2), Y(face.Y2), face.Score,
                face.Landmarks.Select(p => new System.Numerics.Vector2(X(p.X), Y(p.Y))).ToArray());
            var photoToFace = AffineTransform.PixelCentreScale(fx, fy).Then(workToFace);
            return FaceReport.From(index, inPhoto, photoToFace);
        }

        /// <summary>
        /// Bilinear enlargement of the working image, or Real-ESRGAN on the ORIGINAL photo resized to the canvas
        /// (reference doc B.2/B.7: the upsampler sees the original, not the 512-enlarged copy).
        /// </summary>
        private RgbImage UpscaleBackground(RgbImage original, RgbImage work, int width, int height)
        {
            if (options.BackgroundUpsample)
            {
                var upscaled = engine._upsampler!.Upscale(original, options.Upscale, cancellationToken);
                return upscaled.Width == width && upscaled.Height == height ? upscaled : LanczosResizer.Resize(upscaled, width, height);
            }
            if (options.Upscale == 1)
            {
                // At s = 1 the faces are pasted straight into the working image, which nothing else reads afterwards
                // (the reports are made, the crops cut); only the comparison needs it untouched.
                return options.IncludeComparison ? work.Clone() : work;
            }
            return ImageResizer.ResizeBilinear(work, width, height);
        }

        /// <summary>
        /// The photo's faces through the shared batcher. At most two batches' worth of its faces wait at a time, so a
        /// 29-face photo does not stand in front of every 1-face photo that arrives after it. Each face is already in the
        /// network's layout (alignment warped it there) and comes back restored in the same array.
        /// </summary>
        private async Task RestoreFacesAsync(IReadOnlyList<float[]> faces)
        {
            var batcher = engine._batcher;
            if (faces.Count == 0)
            {
                return;
            }
            Report(RestorationStage.Restore, 0.2, $"restoring {faces.Count} face(s)");
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            // Not disposed: faces still on the device after a cancellation release it later (it holds no wait handle).
            var window = new SemaphoreSlim(Math.Max(2, 2 * batcher.MaxBatch));
            var pending = new List<Task>(faces.Count);
            foreach (var face in faces)
            {
                await window.WaitAsync(cancellationToken).ConfigureAwait(false);
                pending.Add(RestoreOneAsync(face));
            }
            await Task.WhenAll(pending).ConfigureAwait(false);
            // Wall time of the photo's wait for its faces: what the network costs this photo.
            _timings.Add(RestorationStage.Restore, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds);

            async Task RestoreOneAsync(float[] face)
            {
                try
                {
                    // The output comes back in the same array.
                    await batcher.RestoreAsync(face, options.Fidelity, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    window.Release();
                }
            }
        }

        /// <summary>
        /// One face between alignment and paste-back: its array in the network's layout (the aligned face going in, the
        /// restored face once the batcher is done), the image → face matrix, the crop's colour statistics (greyscale
        /// photos) and the crop in pixels (face images only).
        /// </summary>
        private sealed record FaceInFlight(float[] Tensor, AffineTransform ImageToFace, GreyscaleFaces.ColourStatistics? CropColours, RgbImage? Crop);

        private RestorationResult Finish(RgbImage output, ImageHeader decoded, ImageFileFormat format, bool greyscale,
            IReadOnlyList<FaceReport> faces, IReadOnlyList<FaceImages> faceImages, RgbImage? comparisonBefore)
        {
            Report(RestorationStage.Encode, 0.95, "encoding");
            var warnings = new List<string>(decoded.Warnings);
            if (!OutputFormat.CanHold(format, output.Width, output.Height))
            {
                // Never a corrupt file: WebP's 14-bit sizes would wrap (16800 px decodes as 416 px). PNG holds any size.
                warnings.Add($"the result is {output.Width}×{output.Height} px, more than {format} can store ({OutputFormat.MaxSide(format)} px a side); it was written as PNG");
                format = ImageFileFormat.Png;
            }
            // A greyscale source is written back as greyscale; a colour photo that merely looks grey keeps its channels.
            // Deliberate deviation: a 16-bit PNG source is written as 16-bit PNG so its fine levels survive (the reference
            // scales 16-bit input to 0..255 and writes 8 bits, or 16 only by the accident of bug #222). The depth follows
            // the input, never the values. Tested by WholePhotoTests.A_16_bit_png_comes_back_as_16_bit….
            int pngBitDepth = format == ImageFileFormat.Png && decoded.BitDepth == 16 ? 16 : 8;
            // The comparison first: the result's encode then packs its 8-bit samples into the canvas's own memory (JPEG,
            // WebP), so no whole-image buffer is allocated beside the canvas at the photo's peak. Nothing reads the
            // canvas's pixels after it.
            byte[]? comparison = options.IncludeComparison && comparisonBefore is not null
                ? _timings.Measure(RestorationStage.Encode, () => SideBySide.EncodePng(comparisonBefore, output, engine._encoder))
                : null;
            var bytes = _timings.Measure(RestorationStage.Encode, () => engine._encoder.EncodeConsuming(output, format, options.JpegQuality,
                greyscale && decoded.SourceIsGreyscaleFormat, pngBitDepth));
            Report(RestorationStage.Encode, 1, "done");
            if (ImageEncoder.DropsAlpha(output, format))
            {
                warnings.Add($"the photo has an alpha channel that {format} cannot store; it was dropped (choose PNG or WebP to keep it)");
            }
            if (!options.InputIsAligned && faces.Count == 0)
            {
                warnings.Add("no face was found; the photo was only upscaled");
            }
            return new RestorationResult(bytes, format, output.Width, output.Height, decoded.Width, decoded.Height,
                greyscale, faces, _timings, faceImages, comparison, warnings);
        }

        private void Report(RestorationStage stage, double fraction, string message)
        {
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report(new RestorationProgress(stage, fraction, message));
        }
    }
}
