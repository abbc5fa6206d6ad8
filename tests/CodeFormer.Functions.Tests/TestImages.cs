using System.Buffers.Binary;
using System.IO.Hashing;
using CodeFormer.Testing;

namespace CodeFormer.Functions.Tests;

/// <summary>Bad uploads, built byte by byte so each breaks exactly one rule.</summary>
internal static class TestImages
{
    public const string Photo = "images/grace_hopper_517x606.jpg";
    public const string PngPhoto = "images/hopper_128x128.png";

    public static byte[] Read(string asset) => File.ReadAllBytes(TestAssets.PathOf(asset));

    /// <summary>A syntactically valid PNG whose IHDR claims width × height (the pixel data is one tiny IDAT).</summary>
    public static byte[] PngClaiming(int width, int height)
    {
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // RGB
        WriteChunk(png, "IHDR", ihdr);
        WriteChunk(png, "IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>A two-frame animated GIF (GIF is refused whether animated or not; the frame count never matters).</summary>
    public static byte[] AnimatedGif()
    {
        var frame = new byte[] { 0x21, 0xF9, 0x04, 0x00, 0x0A, 0x00, 0x00, 0x00, 0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0x02, 0x02, 0x44, 0x01, 0x00 };
        return [.. "GIF89a"u8, 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255,
            0x21, 0xFF, 0x0B, .. "NETSCAPE2.0"u8, 0x03, 0x01, 0x00, 0x00, 0x00, .. frame, .. frame, 0x3B];
    }

    /// <summary>
    /// An APNG: a real still PNG with an acTL chunk (two frames, loop forever) put right after its IHDR, where the
    /// APNG spec places it. Browsers animate such a file; the service only restores still images.
    /// </summary>
    public static byte[] Apng(byte[] stillPng)
    {
        const int IhdrEnd = 8 + 8 + 13 + 4; // signature, IHDR length and type, its 13 bytes, CRC
        if (stillPng.Length <= IhdrEnd || !stillPng.AsSpan(12, 4).SequenceEqual("IHDR"u8))
        {
            throw new ArgumentException("Expected a PNG that starts with its IHDR chunk.", nameof(stillPng));
        }
        using var png = new MemoryStream();
        png.Write(stillPng.AsSpan(0, IhdrEnd));
        WriteChunk(png, "acTL", [0, 0, 0, 2, 0, 0, 0, 0]);
        png.Write(stillPng.AsSpan(IhdrEnd));
        return png.ToArray();
    }

    /// <summary>An extended WebP whose VP8X header sets the animation flag, with its ANIM and one ANMF frame chunk.</summary>
    public static byte[] AnimatedWebp()
    {
        var vp8X = new byte[10];
        vp8X[0] = 0x02; // the animation flag
        vp8X[4] = 7; // canvas width - 1 (24-bit little-endian): 8
        vp8X[7] = 7; // canvas height - 1: 8
        byte[][] chunks = [[.. "VP8X"u8, .. LittleEndian(vp8X.Length), .. vp8X], [.. "ANIM"u8, .. LittleEndian(6), .. new byte[6]],
            [.. "ANMF"u8, .. LittleEndian(16), .. new byte[16]]];
        byte[] body = [.. "WEBP"u8, .. chunks.SelectMany(c => c)]; // every chunk has an even size: no padding
        return [.. "RIFF"u8, .. LittleEndian(body.Length), .. body];
    }

    private static byte[] LittleEndian(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        return bytes;
    }

    /// <summary>The start of a little-endian TIFF.</summary>
    public static byte[] Tiff() => [0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, .. new byte[64]];

    public static byte[] NotAnImage() => "This is a text file, not a photo.\n"u8.ToArray();

    private static void WriteChunk(Stream png, string type, byte[] data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        png.Write(length);
        var typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        png.Write(typeBytes);
        png.Write(data);
        var crc = new Crc32();
        crc.Append(typeBytes);
        crc.Append(data);
        Span<byte> crcBytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crcBytes, crc.GetCurrentHashAsUInt32());
        png.Write(crcBytes);
    }
}
