using System.Numerics;

namespace CodeFormer.Engine.Geometry;

/// <summary>
/// A 4-degree-of-freedom similarity (uniform scale, rotation, translation) fitted from point pairs the way
/// <c>cv2.estimateAffinePartial2D(from, to, method=cv2.LMEDS)</c> does, which is how CodeFormer maps the
/// detected landmarks onto the template:
/// <list type="number">
/// <item>Least median of squares over minimal 2-point models. OpenCV draws random 2-point subsets; here every
/// subset is tried instead (5 landmarks → 10 subsets), which is cheap, deterministic, and never misses the best
/// model a random draw might skip. Ties keep the first subset in (i, j) order.</item>
/// <item>Inliers: squared residual ≤ σ² with σ = max(2.5·1.4826·(1 + 5/(n − 2))·√median, 0.001), as OpenCV's LMeDS.</item>
/// <item>Refinement on the inliers. OpenCV runs Levenberg–Marquardt on the 4 parameters; the residual is linear
/// in them (x' = a·x − b·y + tx, y' = b·x + a·y + ty), so its optimum is the closed-form least-squares solution used
/// here (the Umeyama similarity).</item>
/// </list>
/// </summary>
public static class SimilarityEstimator
{
    private const int ModelPoints = 2;

    public static AffineTransform Estimate(IReadOnlyList<Vector2> from, IReadOnlyList<Vector2> to)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        if (from.Count != to.Count)
        {
            throw new ArgumentException($"Point lists differ in length: {from.Count} source points, {to.Count} target points.", nameof(to));
        }
        int n = from.Count;
        if (n < ModelPoints)
        {
            throw new ArgumentException($"A similarity needs at least {ModelPoints} point pairs, got {n}.", nameof(from));
        }
        var src = ToDouble(from, nameof(from));
        var dst = ToDouble(to, nameof(to));
        if (Spread(src) <= DegenerateSpread(src))
        {
            throw new ArgumentException(
                $"The {n} source points coincide (all at about ({src[0].X}, {src[0].Y})); no scale or rotation can be estimated.", nameof(from));
        }
        if (n == ModelPoints)
        {
            return Checked(LeastSquares(src, dst, [0, 1]), from, to);
        }

        var errors = new double[n];
        var sorted = new double[n];
        AffineTransform? best = null;
        double bestMedian = double.PositiveInfinity;
        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
            {
                var d = (X: src[i].X - src[j].X, Y: src[i].Y - src[j].Y);
                if (d.X * d.X + d.Y * d.Y <= DegenerateSpread(src))
                {
                    continue; // A coincident pair fixes no rotation or scale; OpenCV's subset check rejects it too.
                }
                var model = LeastSquares(src, dst, [i, j]);
                SquaredResiduals(model, src, dst, errors);
                errors.CopyTo(sorted, 0);
                Array.Sort(sorted);
                double median = sorted[n / 2]; // OpenCV: nth_element at count/2.
                if (median < bestMedian)
                {
                    bestMedian = median;
                    best = model;
                }
            }
        }
        if (best is null)
        {
            throw new ArgumentException($"Every pair of the {n} source points coincides; no similarity can be estimated.", nameof(from));
        }

        double sigma = Math.Max(2.5 * 1.4826 * (1 + 5.0 / (n - ModelPoints)) * Math.Sqrt(bestMedian), 0.001);
        SquaredResiduals(best.Value, src, dst, errors);
        var inliers = Enumerable.Range(0, n).Where(k => errors[k] <= sigma * sigma).ToArray();
        var refined = inliers.Length >= ModelPoints && Spread(inliers.Select(k => src[k]).ToArray()) > DegenerateSpread(src)
            ? LeastSquares(src, dst, inliers)
            : best.Value;
        return Checked(refined, from, to);
    }

    /// <summary>The closed-form least-squares similarity mapping src[k] to dst[k] over the given indices.</summary>
    private static AffineTransform LeastSquares((double X, double Y)[] src, (double X, double Y)[] dst, int[] indices)
    {
        double msx = 0, msy = 0, mdx = 0, mdy = 0;
        foreach (int k in indices)
        {
            msx += src[k].X;
            msy += src[k].Y;
            mdx += dst[k].X;
            mdy += dst[k].Y;
        }
        int m = indices.Length;
        msx /= m;
        msy /= m;
        mdx /= m;
        mdy /= m;
        double norm = 0, dot = 0, cross = 0;
        foreach (int k in indices)
        {
            double sx = src[k].X - msx, sy = src[k].Y - msy;
            double dx = dst[k].X - mdx, dy = dst[k].Y - mdy;
            norm += sx * sx + sy * sy;
            dot += sx * dx + sy * dy;
            cross += sx * dy - sy * dx;
        }
        double a = dot / norm, b = cross / norm;
        return new AffineTransform(a, -b, mdx - (a * msx - b * msy), b, a, mdy - (b * msx + a * msy));
    }

    private static void SquaredResiduals(AffineTransform model, (double X, double Y)[] src, (double X, double Y)[] dst, double[] errors)
    {
        for (int k = 0; k < src.Length; k++)
        {
            var (x, y) = model.Apply(src[k].X, src[k].Y);
            double ex = x - dst[k].X, ey = y - dst[k].Y;
            errors[k] = ex * ex + ey * ey;
        }
    }

    private static double Spread((double X, double Y)[] points)
    {
        double mx = points.Average(p => p.X), my = points.Average(p => p.Y);
        return points.Max(p => (p.X - mx) * (p.X - mx) + (p.Y - my) * (p.Y - my));
    }

    /// <summary>Squared distances at or below this count as "the same point" (relative to the coordinates' magnitude).</summary>
    private static double DegenerateSpread((double X, double Y)[] points)
    {
        double magnitude = points.Max(p => Math.Max(Math.Abs(p.X), Math.Abs(p.Y)));
        double tolerance = 1e-9 * Math.Max(1.0, magnitude);
        return tolerance * tolerance;
    }

    private static (double X, double Y)[] ToDouble(IReadOnlyList<Vector2> points, string name)
    {
        var result = new (double X, double Y)[points.Count];
        for (int k = 0; k < points.Count; k++)
        {
            if (!float.IsFinite(points[k].X) || !float.IsFinite(points[k].Y))
            {
                throw new ArgumentException($"Point {k} is not finite: ({points[k].X}, {points[k].Y}).", name);
            }
            result[k] = (points[k].X, points[k].Y);
        }
        return result;
    }

    private static AffineTransform Checked(AffineTransform t, IReadOnlyList<Vector2> from, IReadOnlyList<Vector2> to)
    {
        if (!(Math.Abs(t.Determinant) > 1e-18) || t.ToArray().Any(v => !double.IsFinite(v)))
        {
            throw new ArgumentException(
                $"The estimated similarity is degenerate (scale ≈ 0): the target points [{string.Join(", ", to)}] " +
                $"collapse the source points [{string.Join(", ", from)}].", nameof(to));
        }
        return t;
    }
}
