using CodeFormer.Engine.Geometry;
using CodeFormer.Engine.Imaging;

namespace CodeFormer.Engine.Compositing;

/// <summary>A restored face and the alignment matrix of its crop (input image → face, as FaceAligner returned it).</summary>
public sealed record FaceToPaste(RgbImage RestoredFace, AffineTransform ImageToFace);
