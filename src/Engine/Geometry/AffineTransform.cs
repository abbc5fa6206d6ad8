using System.Numerics;

namespace CodeFormer.Engine.Geometry;

/// <summary>
/// A 2×3 affine matrix mapping (x, y) to (A·x + B·y + C, D·x + E·y + F), in OpenCV's <c>warpAffine</c>
/// convention: it maps source coordinates to destination coordinates.
/// </summary>
public readonly record struct AffineTransform(double A, double B, double C, double D, double E, double F)
{
    public static AffineTransform Identity => new(1, 0, 0, 0, 1, 0);

    public Vector2 Apply(Vector2 p) => new((float)(A * p.X + B * p.Y + C), (float)(D * p.X + E * p.Y + F));

    public (double X, double Y) Apply(double x, double y) => (A * x + B * y + C, D * x + E * y + F);

    public double Determinant => A * E - B * D;

    /// <summary>Inverse, as <c>cv2.invertAffineTransform</c>.</summary>
    public AffineTransform Invert()
    {
        double det = Determinant;
        if (Math.Abs(det) < 1e-12)
        {
            throw new InvalidOperationException("The affine transform is singular and cannot be inverted.");
        }
        double ia = E / det, ib = -B / det, id = -D / det, ie = A / det;
        return new(ia, ib, -(ia * C + ib * F), id, ie, -(id * C + ie * F));
    }

    /// <summary>Scales the whole matrix (both the linear part and translation), as <c>M * s</c> in the reference.</summary>
    public AffineTransform Scale(double s) => new(A * s, B * s, C * s, D * s, E * s, F * s);

    public AffineTransform Translate(double dx, double dy) => this with { C = C + dx, F = F + dy };

    /// <summary>This transform followed by <paramref name="next"/>: x ↦ next(this(x)).</summary>
    public AffineTransform Then(AffineTransform next) => new(
        next.A * A + next.B * D, next.A * B + next.B * E, next.A * C + next.B * F + next.C,
        next.D * A + next.E * D, next.D * B + next.E * E, next.D * C + next.E * F + next.F);

    /// <summary>
    /// Where pixel coordinates go when an image is resized by factors (sx, sy) with pixel centres kept aligned, as
    /// cv2.resize INTER_LINEAR does: x ↦ sx·x + 0.5·sx − 0.5 (a pixel centre at x covers [x − ½, x + ½]).
    /// </summary>
    public static AffineTransform PixelCentreScale(double sx, double sy) => new(sx, 0, 0.5 * sx - 0.5, 0, sy, 0.5 * sy - 0.5);

    public double[] ToArray() => [A, B, C, D, E, F];
}
