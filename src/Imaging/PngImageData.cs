using System.Buffers.Binary;

namespace CodeFormer.Imaging;

/// <summary>
/// The one chunk walk and the one Adam7 geometry that the PNG pixel checks share (<see cref="PaletteIndexCheck"/>,
/// <see cref="SixteenBitPngDecoder"/>): the header fields, the palette size, where the image data chunks lie, and
/// the rows each interlace pass has. Runs after <see cref="ContainerWalker"/> accepted the file, so it judges nothing:
/// a chunk whose length runs past the file ends the walk, and the walk stops at IEND, as libpng does.
/// </summary>
internal sealed class PngImageData
{
    /// <summary>One interlace pass: where it starts and how it steps, in x then y, and its size (never empty).</summary>
    public readonly record struct Pass(int XStart, int XStep, int YStart, int YStep, int Width, int Height);

    // Adam7 (PNG 8.2): pass start and step, in x then y.
    private static readonly int[] XStart = [0, 4, 0, 2, 0, 1, 0], XStep = [8, 8, 4, 4, 2, 2, 1];
    private static readonly int[] YStart = [0, 0, 4, 0, 2, 0, 1], YStep = [8, 8, 8, 4, 4, 2, 2];

    private readonly byte[] _file;

    private PngImageData(byte[] file) => _file = file;

    public int Width { get; private set; }

    public int Height { get; private set; }

    public int BitDepth { get; private set; } = 8;

    public int ColourType { get; private set; }

    public bool Interlaced { get; private set; }

    /// <summary>Colours in the palette (PLTE), 0 when there is none.</summary>
    public int PaletteEntries { get; private set; }

    /// <summary>Every whole chunk up to and including IEND, in file order: where it starts, its data length, whether it is IDAT.</summary>
    public IReadOnlyList<(int Start, int Length, bool IsImageData)> Chunks { get; private set; } = [];

    /// <summary>Where the walk stopped: the end of IEND, or of the last whole chunk. Bytes after it are not chunks.</summary>
    public int End { get; private set; }

    public int ImageDataChunkCount => Chunks.Count(c => c.IsImageData);

    /// <summary>Samples per pixel for the colour type (palette indices count as one).</summary>
    public int Channels => ColourType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };

    public static PngImageData Read(byte[] file)
    {
        var image = new PngImageData(file);
        var chunks = new List<(int, int, bool)>();
        var position = 8;
        while (position + 12 <= file.Length)
        {
            long length = BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(position));
            if (length > file.Length - position - 12)
            {
                break;
            }
            var type = file.AsSpan(position + 4, 4);
            if (type.SequenceEqual("IHDR"u8) && length >= 13)
            {
                image.Width = (int)BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(position + 8));
                image.Height = (int)BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(position + 12));
                image.BitDepth = file[position + 16];
                image.ColourType = file[position + 17];
                image.Interlaced = file[position + 20] != 0;
            }
            else if (type.SequenceEqual("PLTE"u8))
            {
                image.PaletteEntries = (int)length / 3;
            }
            chunks.Add((position, (int)length, type.SequenceEqual("IDAT"u8)));
            position += 12 + (int)length;
            if (type.SequenceEqual("IEND"u8))
            {
                break;
            }
        }
        image.Chunks = chunks;
        image.End = position;
        return image;
    }

    /// <summary>The image data chunks' contents joined: the one zlib stream PNG splits across them.</summary>
    public MemoryStream OpenCompressedImageData()
    {
        var joined = new MemoryStream();
        foreach (var (start, length, isImageData) in Chunks)
        {
            if (isImageData)
            {
                joined.Write(_file, start + 8, length);
            }
        }
        joined.Position = 0;
        return joined;
    }

    /// <summary>The passes that have pixels: the seven Adam7 passes of an interlaced image, or the whole image as one.</summary>
    public IEnumerable<Pass> Passes()
    {
        if (!Interlaced)
        {
            yield return new Pass(0, 1, 0, 1, Width, Height);
            yield break;
        }
        for (var pass = 0; pass < 7; pass++)
        {
            var passWidth = (Width - XStart[pass] + XStep[pass] - 1) / XStep[pass];
            var passHeight = (Height - YStart[pass] + YStep[pass] - 1) / YStep[pass];
            if (passWidth > 0 && passHeight > 0)
            {
                yield return new Pass(XStart[pass], XStep[pass], YStart[pass], YStep[pass], passWidth, passHeight);
            }
        }
    }

    /// <summary>Bytes of one filtered row of a pass, without its filter-type byte.</summary>
    public long RowBytes(int passWidth) => ((long)passWidth * Channels * BitDepth + 7) / 8;

    /// <summary>Bytes the inflated image data must hold: every row of every pass, each with its filter-type byte.</summary>
    public long InflatedBytesNeeded() => Passes().Sum(pass => pass.Height * (1 + RowBytes(pass.Width)));
}
