using System.Numerics;
using CodeFormer.Engine.Detection;

namespace CodeFormer.Engine.Video;

/// <summary>A detected face of one frame with the landmarks to align it by (smoothed over time when tracking smooths).</summary>
public sealed record TrackedFace(int TrackId, DetectedFace Detection, IReadOnlyList<Vector2> Landmarks);

/// <summary>
/// Follows faces from frame to frame: each detection joins the track whose last box overlaps it most (IoU ≥ 0.3,
/// greedy by overlap), or starts a new one. Each track smooths its five landmarks with One-Euro filters, so the
/// aligned crops, and the faces pasted back, do not jitter with the detector's per-frame noise. Without smoothing the
/// detector's landmarks pass through unchanged (the reference's per-frame behaviour).
/// </summary>
public sealed class FaceTracker(double framesPerSecond, bool smooth)
{
    /// <summary>Tuned for landmarks in pixels: ~1 Hz still cut-off removes detector noise; beta lets fast motion through.</summary>
    public const double MinCutoffHz = 1.0;
    public const double Beta = 0.05;
    private const float MatchIou = 0.3f;
    /// <summary>A track survives this many frames without a detection (a blink of the detector), then it is dropped.</summary>
    private const int MaxMissedFrames = 5;

    private readonly List<Track> _tracks = [];
    private readonly double _dt = 1.0 / framesPerSecond;
    private int _nextId;

    public IReadOnlyList<TrackedFace> Update(IReadOnlyList<DetectedFace> detections)
    {
        var pairs = new List<(float Iou, Track Track, int Detection)>();
        foreach (var track in _tracks)
        {
            for (int d = 0; d < detections.Count; d++)
            {
                float iou = Iou(track.Last, detections[d]);
                if (iou >= MatchIou)
                {
                    pairs.Add((iou, track, d));
                }
            }
        }
        var assigned = new Dictionary<int, Track>();
        var usedTracks = new HashSet<Track>();
        foreach (var (_, track, d) in pairs.OrderByDescending(p => p.Iou))
        {
            if (!assigned.ContainsKey(d) && usedTracks.Add(track))
            {
                assigned[d] = track;
            }
        }
        var result = new List<TrackedFace>(detections.Count);
        for (int d = 0; d < detections.Count; d++)
        {
            if (!assigned.TryGetValue(d, out var track))
            {
                track = new Track(_nextId++);
                _tracks.Add(track);
                usedTracks.Add(track);
            }
            track.Last = detections[d];
            track.Missed = 0;
            result.Add(new TrackedFace(track.Id, detections[d], smooth ? track.Smooth(detections[d].Landmarks, _dt) : detections[d].Landmarks));
        }
        foreach (var track in _tracks.Where(t => !usedTracks.Contains(t)))
        {
            track.Missed++;
        }
        _tracks.RemoveAll(t => t.Missed > MaxMissedFrames);
        return result;
    }

    private static float Iou(DetectedFace? a, DetectedFace b)
    {
        if (a is null)
        {
            return 0;
        }
        float w = Math.Min(a.X2, b.X2) - Math.Max(a.X1, b.X1), h = Math.Min(a.Y2, b.Y2) - Math.Max(a.Y1, b.Y1);
        if (w <= 0 || h <= 0)
        {
            return 0;
        }
        float inter = w * h;
        return inter / (a.Width * a.Height + b.Width * b.Height - inter);
    }

    private sealed class Track(int id)
    {
        private readonly OneEuroFilter[] _filters = Enumerable.Range(0, 10).Select(_ => new OneEuroFilter(MinCutoffHz, Beta)).ToArray();

        public int Id { get; } = id;
        public DetectedFace? Last { get; set; }
        public int Missed { get; set; }

        public IReadOnlyList<Vector2> Smooth(IReadOnlyList<Vector2> landmarks, double dt)
        {
            var smoothed = new Vector2[landmarks.Count];
            for (int i = 0; i < landmarks.Count && 2 * i + 1 < _filters.Length; i++)
            {
                smoothed[i] = new Vector2((float)_filters[2 * i].Filter(landmarks[i].X, dt), (float)_filters[2 * i + 1].Filter(landmarks[i].Y, dt));
            }
            return smoothed;
        }
    }
}
