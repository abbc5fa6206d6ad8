using CodeFormer.Engine.Imaging;

namespace CodeFormer.Engine.Compositing;

/// <summary>
/// Optional per-face blend mask in face space, combined with the square soft mask by element-wise minimum
/// (reference B.7 "parse mask"). The reference fills it from ParseNet (19-class face parsing, labels
/// {0, 14, 16, 17, 18} cut out, blurred twice with 101×101 σ=11, 10-px border zeroed). No parsing model ships
/// with this project, so by default no provider is set and only the square feathered mask is used.
/// </summary>
public interface IFaceMaskProvider
{
    /// <summary>
    /// A mask of exactly restoredFace.Width × restoredFace.Height with values in [0, 1] (1 = take the restored face),
    /// or null to use the square mask alone for this face.
    /// </summary>
    FloatPlane? MaskFor(RgbImage restoredFace);
}
