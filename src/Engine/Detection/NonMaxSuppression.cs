namespace CodeFormer.Engine.Detection;

/// <summary>
/// Greedy non-maximum suppression as torchvision.ops.nms and cv2.dnn.NMSBoxes do it: candidates in descending
/// score order; a candidate is dropped when its IoU with an already kept box is greater than the threshold.
/// Areas are (x2 − x1)·(y2 − y1) with no "+1": the reference's py_cpu_nms (facelib retinaface_utils) is a wrapper
/// around torchvision.ops.nms, unlike biubug6's original numpy NMS, which adds 1.
/// </summary>
public static class NonMaxSuppression
{
    /// <summary>The kept faces, highest score first.</summary>
    public static IReadOnlyList<DetectedFace> Apply(IReadOnlyList<DetectedFace> candidates, float iouThreshold)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        if (!(iouThreshold >= 0 && iouThreshold <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(iouThreshold), $"NMS IoU threshold must be in [0, 1], got {iouThreshold}.");
        }
        // A stable sort keeps the detector's emission order among equal scores, so results are deterministic.
        var ordered = candidates.Select((face, index) => (face, index))
            .OrderByDescending(c => c.face.Score).ThenBy(c => c.index).Select(c => c.face).ToArray();
        var kept = new List<DetectedFace>();
        foreach (var candidate in ordered)
        {
            bool suppressed = false;
            foreach (var keeper in kept)
            {
                if (IntersectionOverUnion(candidate, keeper) > iouThreshold)
                {
                    suppressed = true;
                    break;
                }
            }
            if (!suppressed)
            {
                kept.Add(candidate);
            }
        }
        return kept;
    }

    /// <summary>IoU of the two boxes; 0 when either box is empty (as torchvision, which divides 0 by a positive union).</summary>
    public static float IntersectionOverUnion(DetectedFace a, DetectedFace b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        float width = MathF.Max(0, MathF.Min(a.X2, b.X2) - MathF.Max(a.X1, b.X1));
        float height = MathF.Max(0, MathF.Min(a.Y2, b.Y2) - MathF.Max(a.Y1, b.Y1));
        float intersection = width * height;
        float union = Area(a) + Area(b) - intersection;
        return union > 0 ? intersection / union : 0;
    }

    private static float Area(DetectedFace face) => MathF.Max(0, face.X2 - face.X1) * MathF.Max(0, face.Y2 - face.Y1);
}
