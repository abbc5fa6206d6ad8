namespace CodeFormer.Engine.Imaging;

public enum WarpBorderMode
{
    /// <summary>OpenCV BORDER_CONSTANT: taps outside the source read a fixed colour.</summary>
    Constant,
    /// <summary>OpenCV BORDER_REPLICATE: taps outside the source read the nearest edge pixel.</summary>
    Replicate,
}

/// <summary>How <see cref="AffineWarper"/> samples outside the source image.</summary>
public readonly record struct WarpBorder(WarpBorderMode Mode, float Red, float Green, float Blue)
{
    /// <summary>cv2.warpAffine's default: constant black (used by paste-back for the face and its masks).</summary>
    public static WarpBorder Zero => new(WarpBorderMode.Constant, 0, 0, 0);

    public static WarpBorder Replicate => new(WarpBorderMode.Replicate, 0, 0, 0);

    public static WarpBorder Constant(float red, float green, float blue) => new(WarpBorderMode.Constant, red, green, blue);

    /// <summary>A constant border for single-channel planes (all three components equal).</summary>
    public static WarpBorder Constant(float value) => new(WarpBorderMode.Constant, value, value, value);
}
