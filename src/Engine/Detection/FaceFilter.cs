namespace CodeFormer.Engine.Detection;

/// <summary>
/// The post-filters shared by every detector, applied in original image coordinates in the reference's order:
/// eye distance (side and tiny faces), minimum box size, then "only the centre face", then the score-ranked cap.
/// </summary>
public static class FaceFilter
{
    /// <param name="faces">Detections sorted by descending score.</param>
    public static IReadOnlyList<DetectedFace> Apply(
        IReadOnlyList<DetectedFace> faces, FaceDetectionOptions options, int imageWidth, int imageHeight)
    {
        ArgumentNullException.ThrowIfNull(faces);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (imageWidth <= 0 || imageHeight <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(imageWidth), $"Image size {imageWidth}×{imageHeight} is not positive.");
        }

        var kept = faces
            .Where(f => f.EyeDistance >= options.MinEyeDistance)
            .Where(f => MathF.Min(f.Width, f.Height) >= options.MinFaceSize)
            .ToList();

        if (options.OnlyCenterFace && kept.Count > 1)
        {
            // Reference get_center_face: the box centre nearest the image centre; the first such face on ties.
            var imageCenter = new System.Numerics.Vector2(imageWidth / 2f, imageHeight / 2f);
            var center = kept.MinBy(f => System.Numerics.Vector2.DistanceSquared(f.Center, imageCenter))!;
            kept = [center];
        }

        if (options.MaxFaces is { } max && kept.Count > max)
        {
            kept = kept.OrderByDescending(f => f.Score).Take(max).ToList();
        }
        return kept;
    }
}
