using CodeFormer.Engine.Imaging;

namespace CodeFormer.Engine.Geometry;

/// <summary>An aligned face crop and the similarity that made it (input image → face crop, OpenCV 2×3 convention).</summary>
public sealed record AlignedFace(RgbImage Crop, AffineTransform ImageToFace);
