namespace CodeFormer.Imaging;

/// <summary>
/// The wording of every refusal, in one place, so each names its rule in words a user understands and carries the
/// numbers; never the text of an internal exception.
/// </summary>
internal static class ImageRefusals
{
    public static ImageRejectedException TooManyBytes(long length, long limit, bool complete) => new(
        ImageRejectionRule.MaxBytes,
        complete
            ? $"Image rejected (MaxBytes): file size {length} bytes exceeds the limit of {limit} bytes."
            : $"Image rejected (MaxBytes): the file is larger than the limit of {limit} bytes (reading stopped after {length} bytes).");

    public static ImageRejectedException NotDecodable(string why, Exception? inner = null) =>
        new(ImageRejectionRule.NotDecodable, $"The input is not a decodable {ImageFormats.AcceptedNames} image: {why}.", inner);

    public static ImageRejectedException Truncated(string format, long length, string where) => new(
        ImageRejectionRule.Truncated,
        $"The input is not a decodable {ImageFormats.AcceptedNames} image: the {format} is truncated: its {length} bytes end {where}.");

    /// <summary>Data missing inside a container whose framing is whole (a cut zlib stream, rows or blocks missing).</summary>
    public static ImageRejectedException IncompleteData(string format, string what) => new(
        ImageRejectionRule.Truncated,
        $"The input is not a decodable {ImageFormats.AcceptedNames} image: the {format} is truncated: {what}; restoring it would fill the gap with black or grey.");

    /// <summary>JPEG scans that are each whole, but not all there: a progressive file cut between scans, say.</summary>
    public static ImageRejectedException IncompleteScans(string what) => new(
        ImageRejectionRule.Truncated,
        $"The input is not a decodable {ImageFormats.AcceptedNames} image: the JPEG is truncated: {what}; the decoder would show it blurred or without colour as if it were whole.");

    public static ImageRejectedException Damaged(string format) => new(
        ImageRejectionRule.DamagedData,
        $"The input is not a decodable {ImageFormats.AcceptedNames} image: the {format}'s compressed pixel data is damaged or cut short, although its container is whole.");

    /// <summary>Damaged compressed data whose damage is known precisely (named in <paramref name="what"/>).</summary>
    public static ImageRejectedException DamagedData(string format, string what) => new(
        ImageRejectionRule.DamagedData,
        $"The input is not a decodable {ImageFormats.AcceptedNames} image: the {format} is damaged: {what}.");

    /// <summary>
    /// What is wrong with the two-byte zlib header of a PNG stream, or null. PNG allows only deflate with a window of at
    /// most 32 KB and no preset dictionary; .NET's inflater throws ZLibException (not InvalidDataException) on a preset
    /// dictionary, which escaped as an internal error.
    /// </summary>
    public static string? ZlibHeaderProblem(ReadOnlySpan<byte> stream)
    {
        if (stream.Length < 2)
        {
            return null; // nothing to judge: the inflation that follows reports the missing data
        }
        int cmf = stream[0], flg = stream[1];
        if ((cmf & 15) != 8 || (cmf >> 4) > 7)
        {
            return $"is not a deflate stream (zlib method byte 0x{cmf:X2})";
        }
        if ((cmf * 256 + flg) % 31 != 0)
        {
            return "has a damaged zlib header (its check bits do not match)";
        }
        return (flg & 0x20) != 0 ? "asks for a preset zlib dictionary, which PNG does not allow" : null;
    }

    public static ImageRejectedException Malformed(string format, string what) => new(
        ImageRejectionRule.MalformedHeader,
        $"The input is not a decodable {ImageFormats.AcceptedNames} image: the {format} header is malformed: {what}.");

    public static ImageRejectedException Animated(string format, string what) => new(
        ImageRejectionRule.Animated,
        $"Image rejected (Animated): the {format} is an animation ({what}); only still images are restored.");

    public static ImageRejectedException MetadataBomb(string format, string what, long limit) => new(
        ImageRejectionRule.MetadataBomb,
        $"Image rejected (MetadataBomb): the {format}'s compressed metadata {what}, more than the {limit} bytes allowed.");

    /// <summary>More metadata chunks of a kind than any real file has, each costing work however small it is.</summary>
    public static ImageRejectedException MetadataChunkFlood(string format, string what, int limit) => new(
        ImageRejectionRule.MetadataBomb,
        $"Image rejected (MetadataBomb): the {format} has more than {limit} {what}; real files have a few, and each costs work to check however small it is.");

    public static ImageRejectedException Unsupported(string what) => new(
        ImageRejectionRule.UnsupportedFormat,
        $"The image is {what}, which is not accepted: only baseline and progressive 8-bit JPEG, PNG and still WebP are decoded.");
}
