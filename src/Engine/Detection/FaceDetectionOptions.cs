namespace CodeFormer.Engine.Detection;

/// <summary>
/// How a detector sizes its input, which candidates it keeps, and which faces survive the post-filters.
/// Defaults are the reference's (CodeFormer <c>get_face_landmarks_5(resize=640, eye_dist_threshold=5)</c>).
/// </summary>
public sealed record FaceDetectionOptions
{
    /// <summary>
    /// Minimum score a candidate must exceed. Null takes the detector's own default:
    /// RetinaFace <see cref="RetinaFaceDetector.DefaultScoreThreshold"/> (0.8, the reference),
    /// YuNet <see cref="YuNetDetector.DefaultScoreThreshold"/> (0.7, below OpenCV's 0.9 for degraded photos; see there).
    /// </summary>
    public float? ScoreThreshold { get; init; }

    /// <summary>IoU above which a lower-scored overlapping box is suppressed (reference: 0.4).</summary>
    public float NmsIou { get; init; } = 0.4f;

    /// <summary>Faces whose eye distance (landmark 0 to 1, original image pixels) is below this are dropped (reference: 5).</summary>
    public float MinEyeDistance { get; init; } = 5;

    /// <summary>Keep only the face whose box centre is closest to the image centre (reference <c>only_center_face</c>).</summary>
    public bool OnlyCenterFace { get; init; }

    /// <summary>Keep at most this many faces, the highest scored ones. Null keeps all.</summary>
    public int? MaxFaces { get; init; }

    /// <summary>Faces whose box short side is below this many original-image pixels are dropped (0 keeps all).</summary>
    public float MinFaceSize { get; init; }

    /// <summary>The detector sees the image scaled so that its short side is this long (reference: 640).</summary>
    public int DetectorShortSide { get; init; } = 640;

    /// <summary>
    /// For fixed-size models (640×640) only. Off: the long side is scaled to fit the canvas, so a landscape photo
    /// is seen smaller than the reference sees it. On (default): the image is also scanned at the reference's scale
    /// (short side = <see cref="DetectorShortSide"/>) in overlapping canvas-sized tiles, merged with the whole-image
    /// pass by NMS. On by default because the reference runs its detector on the whole image at that scale: on the
    /// Solvay photo RetinaFace at the reference's 0.8 finds 19 of 29 faces untiled and 29 tiled.
    /// Costs one network run per tile (a 4:3 photo: 2 tiles + the whole-image pass); images that would need more than
    /// 16 tiles (extreme panoramas) get the whole-image pass only. Dynamic models ignore it (they already run at the
    /// reference's scale).
    /// </summary>
    public bool TileFixedInput { get; init; } = true;

    /// <summary>
    /// Keep the detector's image-sized working arrays (the resized copy, the input tensor, the output copies) for the
    /// next image of the same size instead of allocating them per image. On for video, where every frame has the same
    /// size and per-frame arrays piled up on the large-object heap; off by default so that a photo service does not keep
    /// the buffers of its last photo (up to tens of MiB for a panorama) between requests.
    /// </summary>
    public bool ReuseBuffers { get; init; }

    /// <summary>Throws, naming the field and value, when an option is out of range.</summary>
    public void Validate()
    {
        if (ScoreThreshold is { } score && !(score >= 0 && score < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(ScoreThreshold), $"Score threshold must be in [0, 1), got {score}.");
        }
        if (!(NmsIou >= 0 && NmsIou <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(NmsIou), $"NMS IoU must be in [0, 1], got {NmsIou}.");
        }
        if (!(MinEyeDistance >= 0) || float.IsInfinity(MinEyeDistance))
        {
            throw new ArgumentOutOfRangeException(nameof(MinEyeDistance), $"Minimum eye distance must be a finite value ≥ 0, got {MinEyeDistance}.");
        }
        if (!(MinFaceSize >= 0) || float.IsInfinity(MinFaceSize))
        {
            throw new ArgumentOutOfRangeException(nameof(MinFaceSize), $"Minimum face size must be a finite value ≥ 0, got {MinFaceSize}.");
        }
        if (MaxFaces is { } max && max < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxFaces), $"MaxFaces must be at least 1 (or null for all), got {max}.");
        }
        if (DetectorShortSide is < 32 or > 8192)
        {
            throw new ArgumentOutOfRangeException(nameof(DetectorShortSide), $"Detector short side must be in [32, 8192], got {DetectorShortSide}.");
        }
    }
}
