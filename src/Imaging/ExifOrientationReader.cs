using System.Buffers.Binary;

namespace CodeFormer.Imaging;

/// <summary>
/// Reads the one EXIF field the pipeline needs, the orientation (tag 0x0112 in IFD0), with every offset and count
/// checked against the block's length. Why our own: ImageSharp 2.1 parses EXIF lazily, so a corrupt block (an absurd
/// entry count, IFD pointers that loop) threw "Specified argument…" long after the header checks and refused a good
/// photo. Only IFD0 is read and no pointer is followed, so no loop is possible. Damaged EXIF is a warning, never a
/// refusal: the photo is then processed as stored.
/// </summary>
internal static class ExifOrientationReader
{
    public static ushort Read(byte[]? exif, out string? warning)
    {
        warning = null;
        if (exif is null)
        {
            return 1;
        }
        ReadOnlySpan<byte> tiff = exif;
        if (tiff.StartsWith("Exif\0\0"u8))
        {
            tiff = tiff[6..];
        }
        if (tiff.Length < 8)
        {
            return Damaged($"the block is {tiff.Length} bytes, too short", out warning);
        }
        bool littleEndian;
        if (tiff.StartsWith("II*\0"u8))
        {
            littleEndian = true;
        }
        else if (tiff.StartsWith("MM\0*"u8))
        {
            littleEndian = false;
        }
        else
        {
            return Damaged("it has no TIFF byte-order mark", out warning);
        }
        var ifd = ReadUInt32(tiff[4..], littleEndian);
        if (ifd < 8 || ifd > tiff.Length - 2)
        {
            return Damaged($"its first directory offset {ifd} lies outside its {tiff.Length} bytes", out warning);
        }
        var entries = ReadUInt16(tiff[(int)ifd..], littleEndian);
        if (2 + ifd + 12L * entries > tiff.Length)
        {
            return Damaged($"its first directory declares {entries} entries, more than its {tiff.Length} bytes hold", out warning);
        }
        for (var i = 0; i < entries; i++)
        {
            var entry = tiff.Slice((int)ifd + 2 + 12 * i, 12);
            if (ReadUInt16(entry, littleEndian) != 0x0112)
            {
                continue;
            }
            var type = ReadUInt16(entry[2..], littleEndian);
            var count = ReadUInt32(entry[4..], littleEndian);
            var value = ReadUInt16(entry[8..], littleEndian);
            if (type != 3 || count < 1)
            {
                return Damaged($"its orientation entry has type {type} and count {count} instead of one SHORT", out warning);
            }
            if (value is < 1 or > 8)
            {
                return Damaged($"its orientation value {value} is not one of 1..8", out warning);
            }
            return value;
        }
        return 1;
    }

    private static ushort Damaged(string why, out string warning)
    {
        warning = $"The photo's EXIF metadata is damaged ({why}); it is processed as stored, without EXIF orientation.";
        return 1;
    }

    private static ushort ReadUInt16(ReadOnlySpan<byte> bytes, bool littleEndian) =>
        littleEndian ? BinaryPrimitives.ReadUInt16LittleEndian(bytes) : BinaryPrimitives.ReadUInt16BigEndian(bytes);

    private static uint ReadUInt32(ReadOnlySpan<byte> bytes, bool littleEndian) =>
        littleEndian ? BinaryPrimitives.ReadUInt32LittleEndian(bytes) : BinaryPrimitives.ReadUInt32BigEndian(bytes);
}
